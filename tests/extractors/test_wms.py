"""WMS JSON Lines drops: re-deliveries, late movements, re-sent items and shipments."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from extractors.landing import RejectedDeliveriesError
from extractors.sinks import DuckDBSink
from extractors.wms import extract_wms
from tests.extractors.estates import item, movement, shipment, wms_estate, write_jsonl
from tests.extractors.helpers import land, query, settings_for, snapshot


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    return wms_estate(tmp_path / "sources")


@pytest.fixture
def settings(tmp_path: Path, estate: Path):
    return settings_for(estate, str(tmp_path / "warehouse.duckdb"))


def test_first_load_keeps_values_as_written(settings) -> None:
    result = land(extract_wms, settings)
    assert {s: r["loaded"] for s, r in result["streams"].items()} == {
        "items": 2,
        "snapshots": 1,
        "movements": 2,
        "shipments": 1,
    }
    # Offsets stay as they arrived; numbers are their own text; JSON null is NULL.
    assert query(
        settings,
        "SELECT movement_id, moved_at, qty, ref_type, _origin, _origin_line "
        "FROM raw.wms_movements ORDER BY 1",
    ) == [
        ("MV1", "2025-03-01T10:05:00+08:00", "5", None, "wms/movements/2025030110.jsonl", 1),
        ("MV2", "2025-03-01T10:35:00+08:00", "-1", None, "wms/movements/2025030110.jsonl", 2),
    ]
    assert query(settings, "SELECT description FROM raw.wms_items WHERE wms_sku = 'W-000001'") == [
        ("手机 6.1英寸",)
    ]


def test_redelivery_counts_repeats_as_duplicates_and_lands_late_movements(
    settings, estate: Path
) -> None:
    movements = estate / "wms" / "movements"
    write_jsonl(
        movements / "2025030110_2.jsonl",
        [
            movement("MV1", "2025-03-01T10:05:00+08:00", 5),
            movement("MV2", "2025-03-01T10:35:00+08:00", -1),
            movement("MV3", "2025-03-01T10:50:00+08:00", 2),  # late, same hour
        ],
    )
    write_jsonl(
        movements / "2025030111.jsonl",
        [
            movement("MV4", "2025-03-01T10:59:00+08:00", 1),  # arrived in the next hour
            movement("MV5", "2025-03-01T11:10:00+08:00", -3),
        ],
    )
    result = land(extract_wms, settings)
    assert result["streams"]["movements"] == {
        "read": 7,
        "loaded": 5,
        "quarantined": 0,
        "duplicate": 2,
        "superseded": 0,
    }
    details = query(settings, "SELECT origin_line, detail FROM ops.skipped_rows ORDER BY 1")
    assert details == [
        (1, "repeats wms/movements/2025030110.jsonl line 1"),
        (2, "repeats wms/movements/2025030110.jsonl line 2"),
    ]
    assert query(settings, "SELECT movement_id FROM raw.wms_movements ORDER BY 1") == [
        (m,) for m in ("MV1", "MV2", "MV3", "MV4", "MV5")
    ]


def test_redelivery_in_a_later_run(settings, estate: Path) -> None:
    land(extract_wms, settings)
    write_jsonl(
        estate / "wms" / "movements" / "2025030110_2.jsonl",
        [
            movement("MV1", "2025-03-01T10:05:00+08:00", 5),
            movement("MV2", "2025-03-01T10:35:00+08:00", -1),
            movement("MV3", "2025-03-01T10:50:00+08:00", 2),
        ],
    )
    result = land(extract_wms, settings)
    assert result["streams"]["movements"] == {
        "read": 3,
        "loaded": 1,
        "quarantined": 0,
        "duplicate": 2,
        "superseded": 0,
    }
    assert query(settings, "SELECT detail FROM ops.skipped_rows ORDER BY origin_line")[0][
        0
    ].startswith(
        "equals the latest landed version (wms-000001, wms/movements/2025030110.jsonl line 1"
    )


def test_later_run_ships_keys_only_where_landed_keys_can_match(
    settings, estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    land(extract_wms, settings)
    shipped: list[str] = []
    real = DuckDBSink.to_warehouse_temp

    def recording(self: DuckDBSink, staging_sql: str, temp_table: str) -> None:
        shipped.append(temp_table)
        real(self, staging_sql, temp_table)

    monkeypatch.setattr(DuckDBSink, "to_warehouse_temp", recording)
    # Movement ids above every landed one: no landed version can match, nothing is shipped.
    write_jsonl(
        estate / "wms" / "movements" / "2025030111.jsonl",
        [movement("MV8", "2025-03-01T11:05:00+08:00", 1)],
    )
    result = land(extract_wms, settings)
    assert result["streams"]["movements"]["loaded"] == 1
    assert shipped == []
    # A re-delivery reaching back into the landed range is compared with what landed.
    write_jsonl(
        estate / "wms" / "movements" / "2025030110_2.jsonl",
        [
            movement("MV1", "2025-03-01T10:05:00+08:00", 5),
            movement("MV9", "2025-03-01T10:55:00+08:00", 3),
        ],
    )
    result = land(extract_wms, settings)
    assert result["streams"]["movements"]["loaded"] == 1
    assert result["streams"]["movements"]["duplicate"] == 1
    assert len(shipped) == 1


def test_items_resent_whole_land_only_changes(settings, estate: Path) -> None:
    land(extract_wms, settings)
    items = estate / "wms" / "items.jsonl"
    write_jsonl(
        items,
        [
            item("W-000001", "2025-03-01T08:00:00+08:00", "手机 6.1英寸", "HW-M60P-512-BLK"),
            item("W-000002", "2025-03-02T08:00:00+08:00", "手机壳 新款"),  # changed
            item("W-000003", "2025-03-02T08:00:00+08:00"),  # new
        ],
    )
    result = land(extract_wms, settings)
    assert result["streams"]["items"] == {
        "read": 3,
        "loaded": 2,
        "quarantined": 0,
        "duplicate": 1,
        "superseded": 0,
    }
    versions = query(
        settings, "SELECT wms_sku, description, _batch_id FROM raw.wms_items ORDER BY 1, 3"
    )
    assert versions == [
        ("W-000001", "手机 6.1英寸", "wms-000001"),
        ("W-000002", "手机壳", "wms-000001"),
        ("W-000002", "手机壳 新款", "wms-000002"),
        ("W-000003", "手机壳", "wms-000002"),
    ]
    registered = query(
        settings, "SELECT batch_id FROM ops.file_registry WHERE path = 'wms/items.jsonl' ORDER BY 1"
    )
    assert registered == [("wms-000001",), ("wms-000002",)]


def test_touched_but_unchanged_file_is_not_read_again(settings, estate: Path) -> None:
    land(extract_wms, settings)
    items = estate / "wms" / "items.jsonl"
    os.utime(items, ns=(items.stat().st_atime_ns, items.stat().st_mtime_ns + 10**9))
    result = land(extract_wms, settings)
    assert result["read"] == 0 and result["files"] == 1
    assert not land(extract_wms, settings)["committed"]


def test_shipment_resent_when_it_changes(settings, estate: Path) -> None:
    land(extract_wms, settings)
    write_jsonl(
        estate / "wms" / "shipments" / "20250302.jsonl",
        [
            shipment("SH1", "SHIPPED"),  # unchanged re-send
            shipment("SH1", "DELIVERED", "2025-03-02T15:00:00+08:00"),  # then it changed
        ],
    )
    result = land(extract_wms, settings)
    assert result["streams"]["shipments"] == {
        "read": 2,
        "loaded": 1,
        "quarantined": 0,
        "duplicate": 1,
        "superseded": 0,
    }
    assert query(
        settings, "SELECT status, delivered_at FROM raw.wms_shipments ORDER BY _batch_id"
    ) == [("SHIPPED", None), ("DELIVERED", "2025-03-02T15:00:00+08:00")]


def test_bad_rows_are_quarantined_with_their_text(settings, estate: Path) -> None:
    write_jsonl(
        estate / "wms" / "movements" / "2025030112.jsonl",
        [
            '{"movement_id": "MV9", "moved_at": "2025-03-01T12:00:00+08:00"',  # cut short
            '["not", "an", "object"]',
            {**movement("MV10", "2025-03-01 12:00:00", 1)},  # no offset
            '{"movement_id": "MV11", "moved_at": "2025-03-01T12:01:00+08:00", "warehouse_code": '
            '"WH-C01", "wms_sku": "W-000001", "qty": 1.50, "movement_type": "ADJUST"}',
            {**movement("MV12", "2025-03-01T12:02:00+08:00", 1), "qty": 12, "pallet": "P7"},
        ],
    )
    path = estate / "wms" / "movements" / "2025030112.jsonl"
    path.write_bytes(path.read_bytes() + b'{"movement_id": "\xff"}\n\n')
    land(extract_wms, settings)
    rows = query(settings, "SELECT origin_line, reason FROM ops.quarantine ORDER BY 1")
    assert rows == [
        (1, "not valid JSON"),
        (2, "not a JSON object"),
        (3, "field moved_at = 2025-03-01 12:00:00 does not parse as timestamptz"),
        (4, "field qty = 1.50 does not parse as integer"),
        (6, "bytes are not valid UTF-8"),
    ]
    assert query(settings, "SELECT raw_text FROM ops.quarantine WHERE origin_line = 4") == [
        (
            '{"movement_id": "MV11", "moved_at": "2025-03-01T12:01:00+08:00", "warehouse_code": '
            '"WH-C01", "wms_sku": "W-000001", "qty": 1.50, "movement_type": "ADJUST"}',
        )
    ]
    assert query(
        settings, "SELECT qty, pallet FROM raw.wms_movements WHERE movement_id = 'MV12'"
    ) == [("12", "P7")]
    assert query(settings, "SELECT column_name, change FROM ops.schema_drift") == [
        ("pallet", "added")
    ]


def test_file_without_a_required_field_is_rejected(settings, estate: Path) -> None:
    bad = estate / "wms" / "snapshots" / "20250302.jsonl"
    write_jsonl(bad, [{"snapshot_date": "2025-03-02", "warehouse_code": "WH-C01", "on_hand": 3}])
    with pytest.raises(RejectedDeliveriesError, match=r"wms/snapshots/20250302\.jsonl.*wms_sku"):
        extract_wms(settings)
    assert query(settings, "SELECT count(*) FROM raw.wms_snapshots") == [(1,)]
    assert query(
        settings, "SELECT count(*) FROM ops.file_registry WHERE path LIKE '%20250302%'"
    ) == [(0,)]
    write_jsonl(
        bad,
        [
            {
                "snapshot_date": "2025-03-02",
                "warehouse_code": "WH-C01",
                "wms_sku": "W-000001",
                "on_hand": 3,
            }
        ],
    )
    assert land(extract_wms, settings)["streams"]["snapshots"]["loaded"] == 1


def test_rerun_changes_nothing(settings, estate: Path) -> None:
    land(extract_wms, settings)
    before = snapshot(settings)
    assert not land(extract_wms, settings)["committed"]
    assert snapshot(settings) == before


def test_file_using_a_reserved_key_is_rejected_not_dropped(settings, estate: Path) -> None:
    odd = estate / "wms" / "shipments" / "20250303.jsonl"
    write_jsonl(odd, [{**shipment("SH9", "SHIPPED"), "_origin": "somewhere"}])
    with pytest.raises(RejectedDeliveriesError, match="reserved key names: _origin"):
        extract_wms(settings)
    assert query(settings, "SELECT count(*) FROM raw.wms_shipments WHERE shipment_id = 'SH9'") == [
        (0,)
    ]
    assert query(settings, "SELECT count(*) FROM ops.schema_drift") == [(0,)]


def test_landing_in_chunks_equals_landing_at_once(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    movements = estate / "wms" / "movements"
    write_jsonl(
        movements / "2025030110_2.jsonl",
        [
            movement("MV1", "2025-03-01T10:05:00+08:00", 5),
            movement("MV3", "2025-03-01T10:50:00+08:00", 2),
        ],
    )
    write_jsonl(
        estate / "wms" / "shipments" / "20250302.jsonl",
        [shipment("SH1", "SHIPPED"), shipment("SH1", "DELIVERED", "2025-03-02T15:00:00+08:00")],
    )
    at_once = settings_for(estate, str(tmp_path / "at_once.duckdb"))
    land(extract_wms, at_once)
    monkeypatch.setattr("extractors.wms.CHUNK_ROWS", 1)  # every file lands on its own
    chunked = settings_for(estate, str(tmp_path / "chunked.duckdb"))
    result = land(extract_wms, chunked)
    assert result["streams"]["movements"]["duplicate"] == 1
    one, other = snapshot(chunked), snapshot(at_once)
    # Only the wording of a duplicate's detail differs: the repeated row was read in
    # this batch (at once) or landed by an earlier chunk of it (chunked).
    one["ops.skipped_rows"] = [row[:-1] for row in one["ops.skipped_rows"]]
    other["ops.skipped_rows"] = [row[:-1] for row in other["ops.skipped_rows"]]
    assert one == other


def test_lines_set_apart_keep_their_file_line_and_text(settings, estate: Path) -> None:
    """Bad lines in two files of one stream are quarantined each with its own file, line
    and exact text; a good object holding an inexact number lands that number's digits."""
    first = estate / "wms" / "movements" / "2025030113.jsonl"
    second = estate / "wms" / "movements" / "2025030114.jsonl"
    write_jsonl(first, [movement("MV20", "2025-03-01T13:00:00+08:00"), '{"movement_id": "MV21",'])
    write_jsonl(
        second,
        [
            "",
            '  "just a string"',
            json.dumps(movement("MV22", "2025-03-01T14:00:00+08:00"))[:-1]
            + ', "weight_kg": 2.50, "lot": 1e3}',
        ],
    )
    result = land(extract_wms, settings)
    assert result["streams"]["movements"]["quarantined"] == 2
    assert query(
        settings, "SELECT origin, origin_line, reason, raw_text FROM ops.quarantine ORDER BY 1, 2"
    ) == [
        ("wms/movements/2025030113.jsonl", 2, "not valid JSON", '{"movement_id": "MV21",'),
        ("wms/movements/2025030114.jsonl", 2, "not a JSON object", '  "just a string"'),
    ]
    assert query(
        settings,
        "SELECT weight_kg, lot, _origin_line FROM raw.wms_movements WHERE movement_id = 'MV22'",
    ) == [("2.50", "1e3", 3)]
