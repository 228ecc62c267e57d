"""The identity step on a real DuckDB warehouse: keys that stay put, merges, splits, overrides."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from ronghe.identity.overrides import add_override
from ronghe.identity.step import IdentityInputMissing, resolve_in
from ronghe.identity.store import DuckDBWarehouse
from tests.identity.builders import CONFIG, Rec
from tests.identity.inputs import seed

P1, P2 = "13800138000", "13911112222"
DAY1, DAY2, DAY3 = datetime(2025, 3, 1, 2), datetime(2025, 3, 2, 2), datetime(2025, 3, 3, 2)

BASE = [
    Rec("POS_MEMBER", "C1", name="张伟", phone=P1, gender="M", birth_date="1980-05-01",
        registered_at="2020-01-01 10:00:00"),
    Rec("MALL", "B1", name="张伟", phone=P2, email="zw@qq.com",
        registered_at="2021-01-01 10:00:00"),
    Rec("POS_MEMBER", "C7", name="李娜", phone="13700001111", registered_at="2022-01-01 10:00:00"),
    Rec("POS_MEMBER", "C8", name="李娜", phone="13700001111", registered_at="2023-01-01 10:00:00"),
]  # fmt: skip


def run(path: Path, now: datetime) -> dict:
    warehouse = DuckDBWarehouse(str(path))
    try:
        return resolve_in(warehouse, CONFIG, now=now)
    finally:
        warehouse.close()


def rows(path: Path, sql: str) -> list[tuple]:
    warehouse = DuckDBWarehouse(str(path))
    try:
        frame = warehouse.query(sql)
        return [tuple(None if pd.isna(v) else v for v in r) for r in frame.itertuples(index=False)]
    finally:
        warehouse.close()


def current_keys(path: Path) -> dict[str, str]:
    return dict(
        rows(
            path,
            "SELECT source_record_id, member_key FROM identity.member_xref WHERE valid_to IS NULL",
        )
    )


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def test_every_record_gets_exactly_one_current_key(warehouse_path: Path) -> None:
    seed(warehouse_path, BASE)
    summary = run(warehouse_path, DAY1)
    keys = current_keys(warehouse_path)
    assert set(keys) == {"C1", "B1", "C7", "C8"}
    assert keys["C7"] == keys["C8"]
    assert len({keys["C1"], keys["B1"], keys["C7"]}) == 3
    assert summary["members"]["records"] == 4 and summary["members"]["members"] == 3


def test_a_rerun_on_the_same_data_changes_nothing(warehouse_path: Path) -> None:
    seed(warehouse_path, BASE)
    run(warehouse_path, DAY1)
    before = rows(warehouse_path, "SELECT * FROM identity.member_xref ORDER BY 1, 2")
    summary = run(warehouse_path, DAY2)
    assert rows(warehouse_path, "SELECT * FROM identity.member_xref ORDER BY 1, 2") == before
    assert summary["members"]["keys_minted"] == 0
    assert summary["members"]["merges"] == summary["members"]["splits"] == 0


def test_new_records_join_existing_members_without_moving_anyone(warehouse_path: Path) -> None:
    seed(warehouse_path, BASE)
    run(warehouse_path, DAY1)
    first = current_keys(warehouse_path)
    seed(warehouse_path, [*BASE, Rec("JD", "J1", name="李 娜", phone="137****1111")])
    run(warehouse_path, DAY2)
    second = current_keys(warehouse_path)
    assert {k: second[k] for k in first} == first
    assert second["J1"] == first["C7"]


def test_evidence_written_a_few_records_at_a_time_equals_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large estates write their evidence in chunks; the chunks must add up to one write."""
    tables = "identity.member_records", "identity.member_evidence"
    written = {}
    for chunk_rows in (1_000, 3):
        monkeypatch.setattr("ronghe.identity.store.CHUNK_ROWS", chunk_rows)
        path = tmp_path / f"chunks-of-{chunk_rows}.duckdb"
        seed(path, BASE)
        run(path, DAY1)
        written[chunk_rows] = [rows(path, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables]
    assert [len(table) for table in written[3]] == [len(BASE), len(BASE)]
    assert written[3] == written[1_000]


def test_a_bridging_record_merges_two_members_into_the_older_key_and_logs_why(
    warehouse_path: Path,
) -> None:
    seed(warehouse_path, BASE)
    run(warehouse_path, DAY1)
    first = current_keys(warehouse_path)
    bridge = Rec(
        "MALL", "B2", name="张伟", phone=P1, email="zw@qq.com", registered_at="2025-03-01 09:00:00"
    )
    seed(warehouse_path, [*BASE, bridge])
    summary = run(warehouse_path, DAY2)
    second = current_keys(warehouse_path)
    assert second["C1"] == second["B1"] == second["B2"] == first["C1"]
    assert summary["members"]["merges"] == 1
    ((status, merged_into),) = rows(
        warehouse_path,
        f"SELECT status, merged_into FROM identity.member_keys WHERE member_key = '{first['B1']}'",
    )
    assert (status, merged_into) == ("RETIRED", first["C1"])
    ((event_type, reason, evidence, version),) = rows(
        warehouse_path,
        "SELECT event_type, reason, evidence, model_version FROM identity.member_merge_log",
    )
    assert event_type == "MERGE" and version == CONFIG.model_version
    assert "email_name" in reason or "phone_name" in reason
    assert json.loads(evidence)["edges"]
    history = rows(
        warehouse_path,
        "SELECT member_key, valid_to IS NULL FROM identity.member_xref "
        "WHERE source_record_id = 'B1' ORDER BY valid_from",
    )
    assert history == [(first["B1"], False), (first["C1"], True)]


def test_a_steward_split_is_applied_logged_and_keeps_the_key_on_the_older_part(
    warehouse_path: Path,
) -> None:
    seed(warehouse_path, BASE)
    run(warehouse_path, DAY1)
    first = current_keys(warehouse_path)
    warehouse = DuckDBWarehouse(str(warehouse_path))
    try:
        override_id = add_override(
            warehouse, "split", ("POS_MEMBER", "C7"), ("POS_MEMBER", "C8"),
            "two sisters sharing a phone", "steward@test", DAY1,
        )  # fmt: skip
    finally:
        warehouse.close()
    summary = run(warehouse_path, DAY2)
    second = current_keys(warehouse_path)
    assert second["C7"] == first["C7"] and second["C8"] != first["C7"]
    assert summary["members"]["splits"] == 1 and summary["members"]["overrides_applied"] == 1
    assert rows(warehouse_path, "SELECT event_type, other_key FROM identity.member_merge_log") == [
        ("SPLIT", first["C7"])
    ]
    assert rows(
        warehouse_path,
        f"SELECT first_applied_at FROM identity.overrides WHERE override_id = '{override_id}'",
    ) == [(DAY2,)]


def test_a_steward_merge_is_applied_on_the_next_run(warehouse_path: Path) -> None:
    seed(warehouse_path, BASE)
    run(warehouse_path, DAY1)
    first = current_keys(warehouse_path)
    warehouse = DuckDBWarehouse(str(warehouse_path))
    try:
        add_override(
            warehouse,
            "MERGE",
            ("POS_MEMBER", "C1"),
            ("MALL", "B1"),
            "same ID card",
            "steward@test",
            DAY1,
        )
    finally:
        warehouse.close()
    run(warehouse_path, DAY2)
    second = current_keys(warehouse_path)
    assert second["B1"] == second["C1"] == first["C1"]
    (matched_by,) = rows(
        warehouse_path,
        "SELECT matched_by FROM identity.member_xref "
        "WHERE source_record_id = 'B1' AND valid_to IS NULL",
    )[0]
    assert matched_by == "override_merge"
    assert rows(warehouse_path, "SELECT event_type FROM identity.member_merge_log") == [("MERGE",)]


def test_a_rebuild_from_nothing_gives_unchanged_people_their_keys(tmp_path: Path) -> None:
    incremental, rebuilt = tmp_path / "incremental.duckdb", tmp_path / "rebuilt.duckdb"
    later = Rec("JD", "J1", name="李娜", phone="137****1111", registered_at="2025-03-02 09:00:00")
    seed(incremental, BASE)
    run(incremental, DAY1)
    seed(incremental, [*BASE, later])
    run(incremental, DAY2)
    seed(rebuilt, [*BASE, later])
    run(rebuilt, DAY3)
    assert current_keys(incremental) == current_keys(rebuilt)


def test_borderline_pairs_reach_the_review_queue_and_leave_it_when_settled(
    warehouse_path: Path,
) -> None:
    family = [
        Rec("POS_MEMBER", "DAD", name="张伟", phone=P1, city="上海市"),
        Rec("POS_MEMBER", "MUM", name="李芳", phone=P1, city="上海市"),
        Rec("TMALL", "tb1", name="快乐的小猫", phone="138****8000", city="上海市"),
    ]
    seed(warehouse_path, family)
    summary = run(warehouse_path, DAY1)
    assert summary["members"]["review_queue"] == 2
    assert {r[0] for r in rows(warehouse_path, "SELECT status FROM identity.review_queue")} == {
        "OPEN"
    }
    warehouse = DuckDBWarehouse(str(warehouse_path))
    try:
        add_override(
            warehouse,
            "MERGE",
            ("TMALL", "tb1"),
            ("POS_MEMBER", "MUM"),
            "called the buyer",
            "s",
            DAY1,
        )
    finally:
        warehouse.close()
    run(warehouse_path, DAY2)
    assert rows(
        warehouse_path, "SELECT count(*) FROM identity.review_queue WHERE status = 'OPEN'"
    ) == [(0,)]


def test_the_step_says_which_input_is_missing(warehouse_path: Path) -> None:
    warehouse = DuckDBWarehouse(str(warehouse_path))
    try:
        with pytest.raises(IdentityInputMissing, match="int_member_records_unioned"):
            resolve_in(warehouse, CONFIG, now=DAY1)
    finally:
        warehouse.close()


def test_a_table_from_an_older_version_gains_the_new_columns(warehouse_path: Path) -> None:
    warehouse = DuckDBWarehouse(str(warehouse_path))
    try:
        warehouse.execute("CREATE SCHEMA identity")
        warehouse.execute(
            "CREATE TABLE identity.member_xref (source_system VARCHAR, source_record_id VARCHAR, "
            "member_key VARCHAR, matched_by VARCHAR, match_score DOUBLE, valid_from TIMESTAMP, "
            "valid_to TIMESTAMP)"
        )
        warehouse.execute(
            "INSERT INTO identity.member_xref VALUES ('MALL', 'B0', 'K0', 's', 1, now(), NULL)"
        )
    finally:
        warehouse.close()
    seed(warehouse_path, BASE)
    run(warehouse_path, DAY1)
    assert current_keys(warehouse_path)["B0"] == "K0"
    assert len(current_keys(warehouse_path)) == 5


def test_another_persons_new_record_does_not_move_an_earlier_attachment(
    warehouse_path: Path,
) -> None:
    dad = Rec("POS_MEMBER", "DAD", name="张伟", phone=P1, city="上海市")
    buyer = Rec("TMALL", "tb1", name="快乐的小猫", phone="138****8000", city="上海市")
    seed(warehouse_path, [dad, buyer])
    run(warehouse_path, DAY1)
    first = current_keys(warehouse_path)
    assert first["tb1"] == first["DAD"]
    mum = Rec("POS_MEMBER", "MUM", name="李芳", phone=P1, city="上海市",
              registered_at="2023-02-01 12:00:00")  # fmt: skip
    seed(warehouse_path, [dad, buyer, mum])
    run(warehouse_path, DAY2)
    assert current_keys(warehouse_path)["tb1"] == first["DAD"]
    # a registry rebuilt from nothing would see a shared family phone and not decide
    rebuilt = warehouse_path.with_name("rebuilt.duckdb")
    seed(rebuilt, [dad, buyer, mum])
    run(rebuilt, DAY2)
    keys = current_keys(rebuilt)
    assert keys["tb1"] not in (keys["DAD"], keys["MUM"])
