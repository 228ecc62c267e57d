"""POS drops of both vendors, on hand-made estates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from extractors.landing import RejectedDeliveriesError
from extractors.pos import extract_pos
from tests.extractors.estates import (
    MEMBER_HEADER_A,
    TXN_HEADER_A,
    pos_estate,
    txn_a,
    write_drop,
)
from tests.extractors.helpers import land, query, settings_for, snapshot


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    return pos_estate(tmp_path / "sources")


@pytest.fixture
def settings(tmp_path: Path, estate: Path):
    return settings_for(estate, str(tmp_path / "warehouse.duckdb"))


def test_both_vendors_land_as_they_arrived(settings) -> None:
    result = land(extract_pos, settings)
    assert result["committed"] and result["batch_id"] == "pos-000001"
    rows = query(
        settings,
        "SELECT txn_id, store_code, cashier_id, payment_method, total_amount, txn_type, "
        "_store_code, _business_date, _delivery, _vendor, _origin, _origin_line "
        "FROM raw.pos_transactions ORDER BY _origin, _origin_line",
    )
    assert rows == [
        (
            "T0001",
            "S0001",
            "C01",
            "CASH",
            "2598.00",
            "SALE",
            "S0001",
            "2025-03-01",
            1,
            "A",
            "pos/S0001/20250301/transactions.csv",
            2,
        ),
        (
            "T0002",
            "S0001",
            "C01",
            "PREPAID_ONLINE",
            "99.00",
            "SALE",
            "S0001",
            "2025-03-01",
            1,
            "A",
            "pos/S0001/20250301/transactions.csv",
            3,
        ),
        (
            "B0001",
            "S0002",
            "收银员07",
            "现金",
            "1299.00",
            "销售",
            "S0002",
            "2025-03-01",
            1,
            "B",
            "pos/S0002/20250301/transactions.csv",
            2,
        ),
        (
            "B0002",
            "S0002",
            "收银员07",
            "现金",
            "50.00",
            "销售",
            "S0002",
            "2025-03-01",
            1,
            "B",
            "pos/S0002/20250301/transactions.csv",
            3,
        ),
    ]
    # The BOM is not part of the first column name or value; vendor B's barcodes keep
    # their lost leading zero lost (the SKU layer resolves them); empty fields are ''.
    barcodes = query(settings, "SELECT barcode, coupon_code FROM raw.pos_lines ORDER BY _origin")
    assert ("690123456789", "") in barcodes and ("0690000000017", "CPN-1") in barcodes
    members = query(settings, "SELECT member_card_no, name, gender FROM raw.pos_members")
    assert sorted(members) == [("M0001", "张三", "M"), ("V0001", "李四", "女")]


def test_quirks_are_accounted_for(settings) -> None:
    result = land(extract_pos, settings)
    assert result["streams"]["lines"] == {
        "read": 6,
        "loaded": 4,
        "quarantined": 1,
        "duplicate": 1,
        "superseded": 0,
    }
    quarantined = query(
        settings, "SELECT origin, origin_line, reason, raw_text FROM ops.quarantine"
    )
    assert quarantined == [
        (
            "pos/S0001/20250301/lines.csv",
            5,
            "too few fields: expected 7",
            "T0002,2,0690000000024,1,9.90",
        ),
    ]
    skipped = query(
        settings, "SELECT origin, origin_line, disposition, detail FROM ops.skipped_rows"
    )
    assert skipped == [("pos/S0001/20250301/lines.csv", 3, "duplicate", "repeats line 2")]
    # The summary line is no data row; it is kept and checked against the rows.
    totals = query(
        settings,
        "SELECT origin, origin_line, raw_text, measure, declared, status FROM ops.control_totals",
    )
    assert totals == [
        (
            "pos/S0002/20250301/transactions.csv",
            4,
            "合计,,,,,,,,1349.00,,,",
            "sum(total_amount)",
            "1349.00",
            "match",
        ),
    ]


def test_success_marker_rule(settings, estate: Path) -> None:
    first = land(extract_pos, settings)
    waiting = "pos/S0001/20250302"
    registered = query(settings, "SELECT path FROM ops.file_registry")
    assert not any(path.startswith(waiting) for (path,) in registered)
    assert query(settings, "SELECT count(*) FROM raw.pos_drops WHERE store_code = 'S0001'") == [
        (1,)
    ]
    # The auditor sees what was not loaded and why, recorded once while it waits.
    deferred = "SELECT batch_id, source, stream, origin, reason FROM ops.deferred_deliveries"
    assert query(settings, deferred) == [
        (first["batch_id"], "pos", None, waiting, "no _SUCCESS: the drop is still being written")
    ]
    before = snapshot(settings)
    again = land(extract_pos, settings)
    assert not again["committed"] and again["deferred"] == 1
    assert snapshot(settings) == before
    (estate / waiting / "_SUCCESS").write_bytes(b"")
    result = land(extract_pos, settings)
    assert result["streams"]["transactions"]["loaded"] == 1
    assert result["deferred"] == 0
    assert len(query(settings, deferred)) == 1
    assert query(
        settings, "SELECT _business_date FROM raw.pos_transactions WHERE txn_id = 'T0003'"
    ) == [("2025-03-02",)]


def test_closed_store_header_only_files(settings) -> None:
    land(extract_pos, settings)
    ledger = query(
        settings,
        "SELECT stream, read, loaded FROM ops.load_ledger WHERE origin LIKE 'pos/S0003/%' "
        "ORDER BY stream",
    )
    assert ledger == [("lines", 0, 0), ("members", 0, 0), ("transactions", 0, 0)]
    assert query(settings, "SELECT count(*) FROM raw.pos_drops WHERE store_code = 'S0003'") == [
        (1,)
    ]


def _resend(estate: Path) -> None:
    write_drop(
        estate,
        "S0002",
        "20250301_2",
        ["B0001,S0002,2,收银员07,2025-03-01 11:00:00,,,现金,1199.00,销售,,"],
        ["B0001,1,690123456789,1,1299.00,100.00,"],
        [],
        vendor="B",
        summary="合计,,,,,,,,1199.00,,,",
    )


def _s0002_rows(settings) -> list[tuple]:
    return query(
        settings,
        "SELECT t.txn_id, t.total_amount, t._delivery FROM raw.pos_transactions t "
        "JOIN (SELECT store_code, business_date, max(delivery) AS delivery FROM raw.pos_drops "
        "      GROUP BY 1, 2) d ON d.store_code = t._store_code "
        " AND d.business_date = t._business_date AND d.delivery = t._delivery "
        "WHERE t._store_code = 'S0002' ORDER BY 1",
    )


def test_resent_drop_supersedes_whole_in_the_same_run(settings, estate: Path) -> None:
    _resend(estate)
    result = land(extract_pos, settings)
    assert result["streams"]["transactions"] == {
        "read": 5,
        "loaded": 3,
        "quarantined": 0,
        "duplicate": 0,
        "superseded": 2,
    }
    assert _s0002_rows(settings) == [("B0001", "1199.00", 2)]
    # The earlier delivery is not appended at all, and not listed as landed.
    assert query(
        settings, "SELECT count(*) FROM raw.pos_transactions WHERE _store_code = 'S0002'"
    ) == [(1,)]
    assert query(settings, "SELECT delivery FROM raw.pos_drops WHERE store_code = 'S0002'") == [
        (2,)
    ]
    superseded = query(
        settings,
        "SELECT DISTINCT disposition, detail FROM ops.skipped_rows WHERE origin LIKE 'pos/S0002/%'",
    )
    assert superseded == [("superseded", "superseded by pos/S0002/20250301_2")]
    dispositions = query(
        settings,
        "SELECT path, disposition FROM ops.file_registry WHERE path LIKE 'pos/S0002/%' ORDER BY 1",
    )
    assert [d for _, d in dispositions] == ["superseded"] * 3 + ["landed"] * 3


def test_resent_drop_in_a_later_run_supersedes_the_landed_one(settings, estate: Path) -> None:
    land(extract_pos, settings)
    _resend(estate)
    result = land(extract_pos, settings)
    # The new delivery lands; the old one's rows move from loaded to superseded.
    assert result["streams"]["transactions"] == {
        "read": 1,
        "loaded": 1,
        "quarantined": 0,
        "duplicate": 0,
        "superseded": 0,
    }
    # Two rows landed (a transaction and a line), five earlier ones superseded.
    assert result["loaded"] == 2 - 5 and result["superseded"] == 5
    assert _s0002_rows(settings) == [("B0001", "1199.00", 2)]
    adjustments = query(
        settings,
        "SELECT origin, read, loaded, superseded FROM ops.load_ledger "
        "WHERE entry = 'adjustment' ORDER BY origin",
    )
    assert adjustments == [
        ("pos/S0002/20250301/lines.csv", 0, -2, 2),
        ("pos/S0002/20250301/members.csv", 0, -1, 1),
        ("pos/S0002/20250301/transactions.csv", 0, -2, 2),
    ]
    report = land(extract_pos, settings)  # nothing new: no second adjustment
    assert not report["committed"]
    figures = query(
        settings,
        "SELECT sum(loaded), sum(superseded) FROM ops.load_ledger WHERE stream = 'transactions'",
    )
    assert figures == [(3, 2)]


def test_lower_delivery_arriving_after_a_higher_one_is_superseded(settings, estate: Path) -> None:
    _resend(estate)
    first = estate / "pos/S0002/20250301/_SUCCESS"
    first.unlink()
    land(extract_pos, settings)
    first.write_bytes(b"")
    result = land(extract_pos, settings)
    assert result["streams"]["transactions"]["superseded"] == 2
    assert result["streams"]["transactions"]["loaded"] == 0
    assert _s0002_rows(settings) == [("B0001", "1199.00", 2)]


def test_missing_required_column_rejects_the_whole_drop(settings, estate: Path) -> None:
    drop = write_drop(
        estate,
        "S0004",
        "20250301",
        [txn_a("X1", "S0004", "5.00")],
        ["X1,1,0690000000017,1,5.00,0.00,"],
        [],
    )
    lines = drop / "lines.csv"
    lines.write_bytes(
        b"txn_id,line_no,barcode,unit_price,discount_amount,coupon_code\r\n"
        b"X1,1,0690000000017,5.00,0.00,\r\n"
    )
    with pytest.raises(RejectedDeliveriesError) as raised:
        extract_pos(settings)
    message = str(raised.value)
    assert "pos/S0004/20250301" in message and "lines.csv" in message and "qty" in message
    # Everything else landed; nothing of the rejected drop did, and it is not registered.
    assert query(settings, "SELECT count(*) FROM raw.pos_drops") == [(3,)]
    assert query(settings, "SELECT count(*) FROM ops.file_registry WHERE path LIKE '%S0004%'") == [
        (0,)
    ]
    assert query(settings, "SELECT count(*) FROM raw.pos_transactions WHERE txn_id = 'X1'") == [
        (0,)
    ]
    assert query(settings, "SELECT origin, reason FROM ops.rejected_deliveries") == [
        ("pos/S0004/20250301", "lines.csv: required column(s) missing: qty")
    ]
    lines.write_bytes(
        b"txn_id,line_no,barcode,qty,unit_price,discount_amount,coupon_code\r\n"
        b"X1,1,0690000000017,1,5.00,0.00,\r\n"
    )
    result = land(extract_pos, settings)
    assert result["loaded"] == 2 and result["rejected"] == 0


def test_new_column_is_kept_and_reported(settings, estate: Path) -> None:
    drop = write_drop(estate, "S0005", "20250301", [], [], [])
    (drop / "members.csv").write_bytes(
        (
            MEMBER_HEADER_A
            + ",wechat_id\r\nM9,王五,13700137000,M,,S0005,2025-03-01 09:00:00,wx9\r\n"
        ).encode()
    )
    land(extract_pos, settings)
    assert query(
        settings,
        "SELECT member_card_no, wechat_id FROM raw.pos_members WHERE _store_code = 'S0005'",
    ) == [("M9", "wx9")]
    assert query(settings, "SELECT origin, column_name, change FROM ops.schema_drift") == [
        ("pos/S0005/20250301/members.csv", "wechat_id", "added")
    ]


def test_type_failures_and_quoted_fields(settings, estate: Path) -> None:
    drop = write_drop(estate, "S0006", "20250301", [], [], [])
    (drop / "transactions.csv").write_bytes(
        (
            TXN_HEADER_A
            + "\r\n"
            + txn_a("Q1", "S0006", "12.x0")
            + "\r\n"  # not a decimal
            + txn_a("Q2", "S0006", "5.00", when="yesterday")
            + "\r\n"  # not a timestamp
            + 'Q3,S0006,1,"Li, Wei",2025-03-01 09:00:00,,,CASH,5.00,SALE,,\r\n'
            + 'Q4,S0006,1,"two\r\nlines",2025-03-01 09:00:00,,,CASH,5.00,SALE,,\r\n'
            + ",S0006,1,C,2025-03-01 09:00:00,,,CASH,5.00,SALE,,\r\n"
        ).encode()  # no txn_id
    )
    land(extract_pos, settings)
    quarantined = query(
        settings,
        "SELECT origin_line, reason, raw_text FROM ops.quarantine "
        "WHERE origin LIKE 'pos/S0006/%' ORDER BY 1",
    )
    assert quarantined == [
        (2, "field total_amount = 12.x0 does not parse as decimal", txn_a("Q1", "S0006", "12.x0")),
        (
            3,
            "field txn_time = yesterday does not parse as timestamp",
            txn_a("Q2", "S0006", "5.00", when="yesterday"),
        ),
        # Q4 spans physical lines 5 and 6, so this record starts on line 7.
        (7, "required field txn_id is empty", ",S0006,1,C,2025-03-01 09:00:00,,,CASH,5.00,SALE,,"),
    ]
    landed = query(
        settings,
        "SELECT txn_id, cashier_id, _origin_line FROM raw.pos_transactions "
        "WHERE _store_code = 'S0006' ORDER BY 1",
    )
    assert landed == [("Q3", "Li, Wei", 4), ("Q4", "two\r\nlines", 5)]


def test_undecodable_gbk_bytes_are_quarantined(settings, estate: Path) -> None:
    drop = write_drop(
        estate,
        "S0007",
        "20250301",
        [],
        ["G1,1,690000000017,1,5.00,0.00,"],
        [],
        vendor="B",
        summary="合计,,,,,,,,0.00,,,",
    )
    lines = drop / "lines.csv"
    lines.write_bytes(lines.read_bytes() + b"G2,1,\xff\xff,1,5.00,0.00,\r\n")
    land(extract_pos, settings)
    assert query(
        settings, "SELECT origin_line, reason FROM ops.quarantine WHERE origin LIKE 'pos/S0007/%'"
    ) == [(3, "bytes are not valid in the file's encoding")]
    assert query(settings, "SELECT txn_id FROM raw.pos_lines WHERE _store_code = 'S0007'") == [
        ("G1",)
    ]


def test_summary_mismatch_is_reported(settings, estate: Path) -> None:
    write_drop(
        estate,
        "S0008",
        "20250301",
        [txn_b_row()],
        [],
        [],
        vendor="B",
        summary="合计,,,,,,,,999.00,,,",
    )
    land(extract_pos, settings)
    assert query(
        settings,
        "SELECT declared, computed, status FROM ops.control_totals WHERE origin LIKE 'pos/S0008/%'",
    ) == [("999.00", "10.00", "mismatch")]


def txn_b_row() -> str:
    return "Z1,S0008,1,收银员01,2025-03-01 12:00:00,,,现金,10.00,销售,,"


def test_rerun_changes_nothing(settings, estate: Path) -> None:
    _resend(estate)
    land(extract_pos, settings)
    before = snapshot(settings)
    again = land(extract_pos, settings)
    assert not again["committed"] and again["batch_id"] is None
    assert snapshot(settings) == before


def test_estate_copied_elsewhere_lands_the_same(settings, estate: Path, tmp_path: Path) -> None:
    land(extract_pos, settings)
    moved = tmp_path / "elsewhere"
    shutil.copytree(estate, moved)
    other = settings_for(moved, str(tmp_path / "other.duckdb"))
    land(extract_pos, other)
    assert snapshot(other)["raw.pos_lines"] == snapshot(settings)["raw.pos_lines"]
