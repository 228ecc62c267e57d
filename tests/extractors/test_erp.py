"""ERP pulls through SQLAlchemy, from the SQLite demo database and from a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from extractors.erp import erp_engine, extract_erp, lower_bound
from extractors.landing import LandingError, RejectedDeliveriesError
from extractors.sinks import open_sink
from tests.extractors.estates import erp_estate
from tests.extractors.helpers import (
    copy_erp_to_postgres,
    land,
    query,
    settings_for,
    snapshot,
)


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    return erp_estate(tmp_path / "sources")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def erp(request, estate: Path, tmp_path: Path):
    """(settings, engine of the ERP) for the demo SQLite ERP and the same ERP in PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{estate / 'erp' / 'erp.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"erp_{abs(hash(str(tmp_path))) % 10**8}")
        copy_erp_to_postgres(estate / "erp" / "erp.db", url)
    engine = erp_engine(url)
    yield settings_for(estate, str(tmp_path / "warehouse.duckdb"), erp_url=url), engine
    engine.dispose()


def test_lower_bound_keeps_the_watermark_format() -> None:
    from datetime import timedelta

    assert lower_bound("2025-03-01 09:30:00", timedelta(minutes=30)) == "2025-03-01 09:00:00"
    assert (
        lower_bound("2025-03-01T09:30:00.5", timedelta(minutes=1)) == "2025-03-01T09:29:00.500000"
    )


def test_first_pull_lands_every_table(erp) -> None:
    settings, _ = erp
    result = land(extract_erp, settings)
    assert {s: r["loaded"] for s, r in result["streams"].items()} == {
        "item": 2,
        "store": 1,
        "dealer": 1,
        "price": 2,
        "sell_in": 1,
        "campaign": 1,
        "deleted": 0,
    }
    rows = query(
        settings,
        "SELECT item_no, item_name, barcode, updated_at, _origin, _origin_line "
        "FROM raw.erp_item ORDER BY _origin_line",
    )
    assert rows[0] == (
        "HW-M60P-512-BLK",
        "华为 Mate 60 Pro 512G 黑",
        "0690123456789",
        "2025-03-01 09:00:00",
        "erp/erp_item",
        1,
    )
    assert query(settings, "SELECT stream, value FROM ops.extract_state ORDER BY 1") == [
        ("dealer", "2025-02-01 00:00:00"),
        ("item", "2025-03-01 09:30:00"),
        ("sell_in", "2025-03-01 10:00:00"),
        ("store", "2025-02-01 00:00:00"),
    ]


def test_incremental_pulls_changes_late_commits_and_deletes(erp) -> None:
    settings, engine = erp
    land(extract_erp, settings)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "UPDATE erp_item SET status = 'DISCONTINUED', "
                "updated_at = '2025-03-02 08:00:00' WHERE item_no = 'HW-CASE-01'"
            )
        )
        # Committed late: its updated_at is below the watermark, within the lookback.
        db.execute(
            sa.text(
                "INSERT INTO erp_sell_in VALUES ('SI-0002', 'D001', 'HW-CASE-01', 5, 15.00, "
                "'2025-03-01', '2025-03-01 09:45:00')"
            )
        )
        db.execute(
            sa.text(
                "INSERT INTO erp_deleted VALUES ('erp_sell_in', 'SI-0001', '2025-03-02 09:00:00')"
            )
        )
        db.execute(sa.text("UPDATE erp_price SET list_price = 6799.00 WHERE channel = 'JD'"))
    result = land(extract_erp, settings)
    assert result["streams"]["item"] == {
        "read": 2,
        "loaded": 1,
        "quarantined": 0,
        "duplicate": 1,
        "superseded": 0,
    }
    assert result["streams"]["sell_in"]["loaded"] == 1
    assert result["streams"]["deleted"]["loaded"] == 1
    assert result["streams"]["price"] == {
        "read": 2,
        "loaded": 1,
        "quarantined": 0,
        "duplicate": 1,
        "superseded": 0,
    }
    assert query(settings, "SELECT item_no, status FROM raw.erp_item ORDER BY _batch_id, 1") == [
        ("HW-CASE-01", "ACTIVE"),
        ("HW-M60P-512-BLK", "ACTIVE"),
        ("HW-CASE-01", "DISCONTINUED"),
    ]
    assert query(settings, "SELECT doc_no FROM raw.erp_sell_in ORDER BY 1") == [
        ("SI-0001",),
        ("SI-0002",),
    ]
    assert query(settings, "SELECT table_name, pk FROM raw.erp_deleted") == [
        ("erp_sell_in", "SI-0001")
    ]
    assert query(settings, "SELECT value FROM ops.extract_state WHERE stream = 'item'") == [
        ("2025-03-02 08:00:00",)
    ]


def test_rerun_changes_nothing(erp) -> None:
    settings, _ = erp
    land(extract_erp, settings)
    before = snapshot(settings)
    again = land(extract_erp, settings)
    assert not again["committed"] and again["duplicate"] == again["read"] > 0
    assert snapshot(settings) == before


def test_a_row_breaking_the_contract_is_quarantined_with_its_values(erp) -> None:
    settings, engine = erp
    with engine.begin() as db:
        if engine.dialect.name == "postgresql":  # SQLite stores any text in any column
            db.execute(sa.text("ALTER TABLE erp_item ALTER COLUMN unit_cost TYPE TEXT"))
        db.execute(sa.text("UPDATE erp_item SET unit_cost = 'n/a' WHERE item_no = 'HW-CASE-01'"))
    result = land(extract_erp, settings)
    assert result["streams"]["item"]["quarantined"] == 1
    [(line, reason, raw_text)] = query(
        settings, "SELECT origin_line, reason, raw_text FROM ops.quarantine"
    )
    assert (line, reason) == (2, "field unit_cost = n/a does not parse as decimal")
    # The row as the ERP printed it, every column named, in the table's column order.
    assert json.loads(raw_text) == {
        "item_no": "HW-CASE-01", "item_name": "手机壳", "series": "ACC", "model": "CASE",
        "category_l1": "配件", "category_l2": "保护壳", "brand": "HUAWEI",
        "barcode": "0690000000017", "uom": "个", "unit_cost": "n/a", "status": "ACTIVE",
        "created_at": "2025-01-01 09:00:00", "updated_at": "2025-03-01 09:30:00",
    }  # fmt: skip
    assert raw_text.startswith('{"item_no":"HW-CASE-01","item_name":"手机壳"')
    assert query(settings, "SELECT item_no FROM raw.erp_item") == [("HW-M60P-512-BLK",)]


def test_missing_required_column_rejects_that_table_only(erp) -> None:
    settings, engine = erp
    with engine.begin() as db:
        db.execute(sa.text("ALTER TABLE erp_dealer RENAME COLUMN updated_at TO modified_at"))
        db.execute(sa.text("ALTER TABLE erp_store ADD COLUMN manager TEXT"))
        db.execute(sa.text("UPDATE erp_store SET manager = '王经理'"))
    with pytest.raises(
        RejectedDeliveriesError, match=r"erp/erp_dealer: required column.*updated_at"
    ):
        extract_erp(settings)
    assert query(settings, "SELECT count(*) FROM raw.erp_item") == [(2,)]
    assert query(settings, "SELECT store_code, manager FROM raw.erp_store") == [("S0001", "王经理")]
    assert query(settings, "SELECT column_name, change FROM ops.schema_drift ORDER BY 1") == [
        ("manager", "added")
    ]


@pytest.mark.parametrize(
    "engine", ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_rerun_over_raw_tables_of_an_earlier_layout(
    engine: str, estate: Path, tmp_path: Path, request
) -> None:
    """Regression: re-running the ERP extraction failed in the dispositions with "Cannot mix
    BIGINT and VARCHAR in COALESCE" where a raw table still had the earlier layout's text
    `_row_hash` (an MD5 in hex). The hash is re-derived; nothing lands twice."""
    if engine == "duckdb":
        warehouse = str(tmp_path / "warehouse.duckdb")
    else:
        warehouse = request.getfixturevalue("postgres_server").create_database(
            f"wh_{abs(hash(str(tmp_path))) % 10**8}"
        )
    settings = settings_for(estate, warehouse)
    land(extract_erp, settings)
    landed = {t: rows for t, rows in snapshot(settings).items() if t.startswith("raw.")}
    with open_sink(warehouse) as sink:
        sink.begin("erp")
        sink.execute("ALTER TABLE raw.erp_item DROP COLUMN _row_hash")
        sink.execute("ALTER TABLE raw.erp_item ADD COLUMN _row_hash VARCHAR")
        sink.execute("UPDATE raw.erp_item SET _row_hash = md5(item_no)")
        sink.commit()
    again = land(extract_erp, settings)
    assert again["committed"]  # the re-derived column is committed with the batch
    assert again["loaded"] == 0 and again["duplicate"] == again["read"] > 0
    assert {t: rows for t, rows in snapshot(settings).items() if t.startswith("raw.")} == landed
    assert not land(extract_erp, settings)["committed"]


def test_a_raw_column_of_another_type_is_named_not_guessed(estate: Path, tmp_path: Path) -> None:
    settings = settings_for(estate, str(tmp_path / "warehouse.duckdb"))
    land(extract_erp, settings)
    with open_sink(settings.warehouse) as sink:
        sink.execute("ALTER TABLE raw.erp_item ALTER COLUMN _origin_line TYPE VARCHAR")
    with pytest.raises(LandingError, match=r"raw\.erp_item\._origin_line is VARCHAR .* BIGINT"):
        extract_erp(settings)
