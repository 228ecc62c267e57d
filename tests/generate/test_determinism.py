"""Same arguments, same bytes; a longer estate extends a shorter one without touching its files."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from ronghe.generate import generate_estate
from tests.generate.conftest import SMALL

GROWING = {
    "erp/erp.db",
    "wms/items.jsonl",
    "ecommerce/coupons.jsonl",
    *(
        f"ecommerce/{p}/{f}.jsonl"
        for p in ("MALL", "TMALL", "JD")
        for f in ("orders", "customers", "listings")
    ),
}


def _files(root: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            out[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    return out


def test_two_runs_give_identical_bytes(small_estate, tmp_path):
    again = tmp_path / "again"
    generate_estate(again, **SMALL)
    first = {k: v[0] for k, v in _files(small_estate).items()}
    second = {k: v[0] for k, v in _files(again).items()}
    assert first == second


def test_extending_by_a_day_keeps_earlier_files_and_equals_a_fresh_estate(small_estate, tmp_path):
    extended = tmp_path / "extended"
    shutil.copytree(small_estate, extended, copy_function=shutil.copy2)
    before = _files(extended)
    generate_estate(extended, SMALL["scale"], SMALL["seed"], SMALL["days"] + 1)
    after = _files(extended)

    fresh = tmp_path / "fresh"
    generate_estate(fresh, SMALL["scale"], SMALL["seed"], SMALL["days"] + 1)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in _files(fresh).items()}

    day_files = [k for k in before if not k.startswith("_truth/") and k not in GROWING]
    assert day_files
    for rel in day_files:
        assert after[rel] == before[rel], f"{rel} was rewritten"
    assert set(before) <= set(after)
    # The extension completes the drops that were still being written, and reveals ERP changes.
    new_success = [
        k for k in set(after) - set(before) if k.endswith("_SUCCESS") and "/20250829" in k
    ]
    assert new_success
    assert after["erp/erp.db"][0] != before["erp/erp.db"][0]
    for platform in ("MALL", "TMALL", "JD"):
        rel = f"ecommerce/{platform}/orders.jsonl"
        old = (small_estate / rel).read_bytes()
        assert (extended / rel).read_bytes().startswith(old)


def test_a_different_estate_in_the_same_folder_leaves_nothing_behind(small_estate, tmp_path):
    reused = tmp_path / "reused"
    shutil.copytree(small_estate, reused)
    (reused / "notes.txt").write_text("not part of the estate")
    generate_estate(reused, SMALL["scale"], SMALL["seed"], SMALL["days"] - 3)
    shorter = tmp_path / "shorter"
    generate_estate(shorter, SMALL["scale"], SMALL["seed"], SMALL["days"] - 3)
    got = {k: v[0] for k, v in _files(reused).items()}
    assert got.pop("notes.txt")
    assert got == {k: v[0] for k, v in _files(shorter).items()}
