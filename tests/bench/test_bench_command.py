"""`ronghe bench` on a tiny estate: real stages measured, results written and readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ronghe.bench.harness import apply_growth, link_estate
from ronghe.cli import main
from ronghe.generate import generate_estate

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def extract_bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results folder of `ronghe bench --stage extract` at scale factor 0.01, 3 days."""
    root = tmp_path_factory.mktemp("bench")
    arguments = ["bench", "--scale", "0.01", "--days", "3", "--stage", "extract"]
    arguments += ["--work", str(root / "work"), "--out", str(root / "results")]
    assert main(arguments) == 0
    return root / "results"


def test_the_json_holds_each_source_next_to_its_lower_bound(extract_bench: Path) -> None:
    (written,) = extract_bench.glob("bench-*-sf0.01.json")
    report = json.loads(written.read_text(encoding="utf-8"))
    assert report["scale"] == 0.01 and report["days"] == 3
    assert report["machine"]["logical_cores"] >= 1 and report["machine"]["ram_gib"] > 0
    rows = {row["stage"]: row for row in report["stage_table"]}
    assert set(rows) == {"extract pos", "extract wms", "extract erp", "extract ecommerce"}
    for row in rows.values():
        assert row["rows"] > 0 and row["seconds"] > 0 and row["lower_bound_seconds"] > 0
        assert row["rows_per_second"] == round(row["rows"] / row["seconds"])
        assert row["ratio"] == round(row["seconds"] / row["lower_bound_seconds"], 2)
        assert 20 < row["peak_rss_mib"] < 4096  # a Python process, not a runaway one
        assert row["met"] == (row["ratio"] <= 1.5)
    # only the extraction benchmark ran: no plain pipeline, no Airflow
    assert "plain" not in report and "airflow" not in report
    assert json.loads((extract_bench / "latest.json").read_text()) == report


def test_the_markdown_states_machine_and_scale_and_shows_the_chart(extract_bench: Path) -> None:
    report = json.loads((extract_bench / "latest.json").read_text(encoding="utf-8"))
    text = (extract_bench / "latest.md").read_text(encoding="utf-8")
    assert text.startswith("# Ronghe benchmark: scale factor 0.01")
    assert f"{report['machine']['logical_cores']} logical cores" in text
    pos = next(row for row in report["stage_table"] if row["stage"] == "extract pos")
    assert f"| extract pos | {pos['seconds']:g} |" in text
    assert "![stage times against their lower bounds](latest.png)" in text
    (dated,) = extract_bench.glob("bench-*-sf0.01.md")
    assert f"]({dated.with_suffix('.png').name})" in dated.read_text(encoding="utf-8")


def test_the_chart_is_a_png(extract_bench: Path) -> None:
    for chart in [extract_bench / "latest.png", *extract_bench.glob("bench-*.png")]:
        data = chart.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000


def _contents(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_growth_through_linked_copies_changes_only_the_running_copy(tmp_path: Path) -> None:
    shorter, longer = tmp_path / "d3", tmp_path / "d4"
    generate_estate(shorter, 0.01, 7, 3)
    before = _contents(shorter)
    link_estate(shorter, longer)
    generate_estate(longer, 0.01, 7, 4)
    target = tmp_path / "running"
    link_estate(shorter, target)
    csv = next(path for path in target.rglob("*.csv"))
    assert csv.stat().st_nlink > 1, "working copies share the estate's files"

    copied = apply_growth(longer, target)

    grown = _contents(longer)
    assert 0 < copied < len(grown)
    assert _contents(target) == grown
    assert _contents(shorter) == before, "the shorter estate is untouched by growth"
    assert apply_growth(longer, target) == 0
