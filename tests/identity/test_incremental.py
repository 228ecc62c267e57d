"""Incremental runs: re-matching only what changed reaches what a full re-resolution reaches."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd

from ronghe.identity.evidence import from_json, to_json
from ronghe.identity.overrides import add_override
from ronghe.identity.step import resolve_in
from ronghe.identity.store import DuckDBWarehouse
from tests.identity.builders import CONFIG, Rec, records_of
from tests.identity.inputs import seed

DAY1, DAY2 = datetime(2025, 3, 1, 2), datetime(2025, 3, 2, 2)
SHARED = "13500005555"

BEFORE = [
    Rec("POS_MEMBER", "C1", name="张伟", phone="13800138000", gender="M", birth_date="1980-05-01",
        registered_at="2020-01-01 10:00:00"),
    Rec("MALL", "B1", name="张伟", phone="13911112222", email="zw@qq.com",
        registered_at="2021-01-01 10:00:00"),
    Rec("POS_MEMBER", "C7", name="李娜", phone="13700001111", registered_at="2022-01-01 10:00:00"),
    Rec("TMALL", "T7", name="nana88", phone="137****1111", city="上海",
        registered_at="2022-02-01 10:00:00"),
    Rec("POS_MEMBER", "C9", name="王芳", phone="13600006666", registered_at="2022-03-01 10:00:00"),
    Rec("JD", "J9", name="王芳", phone="136****6666", registered_at="2022-04-01 10:00:00"),
    Rec("MALL", "B5", name="赵敏", phone="13300003333", registered_at="2022-05-01 10:00:00"),
    # a phone shared by many: a placeholder once it passes max_block_size
    *[
        Rec("POS_MEMBER", f"S{i:02d}", name=f"陈{n}", phone=SHARED,
            registered_at=f"2023-01-{i + 1:02d} 10:00:00")
        for i, n in enumerate("一二三四五六七八九十")
    ],
    Rec("MALL", "S99", name="陈一", email="chen1@qq.com", registered_at="2023-02-01 10:00:00"),
]  # fmt: skip

AFTER = [
    # B5 is gone (hard-deleted upstream); J9 comes back below with more evidence
    *[r for r in BEFORE if r.record_id not in ("B5", "J9")],
    # a new account bridges C1 and B1 (phone of one, e-mail of the other)
    Rec("MALL", "B2", name="张伟", phone="13800138000", email="zw@qq.com",
        registered_at="2025-03-01 09:00:00"),
    # new evidence on an existing record: J9 now seen with a different city
    Rec("JD", "J9", name="王芳", phone="136****6666", registered_at="2022-04-01 10:00:00",
        seen=[{"evidence_source": "ORDER", "city": "北京", "first": "2025-03-01 12:00:00"}]),
    # three more holders push the shared phone past max_block_size
    *[
        Rec("POS_MEMBER", f"S{i:02d}", name=f"陈{n}", phone=SHARED,
            registered_at="2025-03-01 10:00:00")
        for i, n in zip(range(10, 13), "甲乙丙", strict=True)
    ],
]  # fmt: skip


def _run(path: Path, now: datetime, *, full: bool = False) -> dict:
    warehouse = DuckDBWarehouse(str(path))
    try:
        return resolve_in(warehouse, CONFIG, now=now, full=full)
    finally:
        warehouse.close()


def _state(path: Path) -> dict[str, set[tuple]]:
    queries = {
        "xref": "SELECT source_system, source_record_id, member_key, matched_by, match_score "
        "FROM identity.member_xref WHERE valid_to IS NULL",
        "review": "SELECT left_source_record_id, right_source_record_id, rule, probability, "
        "reason FROM identity.review_queue WHERE status = 'OPEN'",
        "keys": "SELECT member_key, status, merged_into FROM identity.member_keys",
        "records": "SELECT * EXCLUDE (run_id) FROM identity.member_records",
        "evidence": "SELECT * EXCLUDE (run_id) FROM identity.member_evidence",
        "blocks": "SELECT * FROM identity.member_blocks",
    }
    warehouse = DuckDBWarehouse(str(path))
    try:
        return {
            name: {
                tuple(None if pd.isna(v) else v for v in row)
                for row in warehouse.query(sql).itertuples(index=False)
            }
            for name, sql in queries.items()
        }
    finally:
        warehouse.close()


def _two_registries(tmp_path: Path, before: list[Rec], after: list[Rec]) -> tuple[Path, Path]:
    """The same registry after `before`, twice, with the inputs then replaced by `after`."""
    incremental, full = tmp_path / "a" / "w.duckdb", tmp_path / "b" / "w.duckdb"
    incremental.parent.mkdir()
    full.parent.mkdir()
    seed(incremental, before)
    _run(incremental, DAY1)
    seed(incremental, after)
    shutil.copy(incremental, full)
    return incremental, full


def test_an_incremental_run_equals_a_full_re_resolution(tmp_path: Path) -> None:
    incremental, full = _two_registries(tmp_path, BEFORE, AFTER)
    summary = _run(incremental, DAY2)["members"]
    _run(full, DAY2, full=True)
    assert summary["incremental"]
    assert summary["records_changed"] == 5 and summary["records_removed"] == 1
    # C7/T7 are untouched and stay out of the run
    assert summary["records_rematched"] < summary["records"] - 1
    assert _state(incremental) == _state(full)
    keys = {row[1]: row[2] for row in _state(incremental)["xref"]}
    assert keys["B2"] == keys["C1"] == keys["B1"]
    assert summary["merges"] == 1 and summary["records"] == len(AFTER)


def test_a_run_with_nothing_new_re_matches_nothing(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    seed(path, BEFORE)
    _run(path, DAY1)
    before = _state(path)
    summary = _run(path, DAY2)["members"]
    assert summary["incremental"] and summary["records_rematched"] == 0
    assert summary["records"] == len(BEFORE) and summary["members"] == len(
        {row[2] for row in before["xref"]}
    )
    assert _state(path) == before


def test_a_new_steward_decision_takes_effect_on_an_unchanged_estate(tmp_path: Path) -> None:
    incremental, full = _two_registries(tmp_path, BEFORE, BEFORE)
    for path in (incremental, full):
        warehouse = DuckDBWarehouse(str(path))
        try:
            add_override(
                warehouse, "MERGE", ("MALL", "B5"), ("POS_MEMBER", "C9"), "same person", "s", DAY1
            )
        finally:
            warehouse.close()
    summary = _run(incremental, DAY2)["members"]
    _run(full, DAY2, full=True)
    keys = {row[1]: row[2] for row in _state(incremental)["xref"]}
    assert summary["incremental"] and summary["overrides_applied"] == 1
    assert keys["B5"] == keys["C9"]
    assert _state(incremental) == _state(full)


def test_a_changed_configuration_resolves_everything(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    seed(path, BEFORE)
    _run(path, DAY1)
    warehouse = DuckDBWarehouse(str(path))
    try:
        warehouse.execute("UPDATE identity.member_evidence SET config_hash = 'older-rules'")
    finally:
        warehouse.close()
    assert not _run(path, DAY2)["members"]["incremental"]


def test_cached_evidence_reads_back_as_it_was_normalised() -> None:
    records = records_of(AFTER)
    assert [from_json(r.record_id, to_json(r)) for r in records] == records
