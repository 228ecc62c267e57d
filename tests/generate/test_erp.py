"""The ERP database: the contract's tables and types, changes in place, hard deletes."""

from __future__ import annotations

from collections import Counter

import pytest

from ronghe.generate.erp import broken_price
from tests.generate.sources import erp, truth

TABLES = {
    "erp_item": [
        "item_no",
        "item_name",
        "series",
        "model",
        "category_l1",
        "category_l2",
        "brand",
        "barcode",
        "uom",
        "unit_cost",
        "status",
        "created_at",
        "updated_at",
    ],
    "erp_store": [
        "store_code",
        "store_name",
        "store_type",
        "dealer_code",
        "region",
        "province",
        "city",
        "county",
        "opened_on",
        "closed_on",
        "warehouse_code",
        "updated_at",
    ],
    "erp_dealer": [
        "dealer_code",
        "dealer_name",
        "tier",
        "registered_province",
        "registered_city",
        "updated_at",
    ],
    "erp_price": ["item_no", "channel", "list_price", "valid_from", "valid_to"],
    "erp_sell_in": [
        "doc_no",
        "dealer_code",
        "item_no",
        "qty",
        "unit_price",
        "shipped_on",
        "updated_at",
    ],
    "erp_campaign": [
        "campaign_id",
        "name",
        "tag",
        "channel",
        "starts_at",
        "ends_at",
        "marketing_cost",
    ],
    "erp_deleted": ["table_name", "pk", "deleted_at"],
}


def test_tables_and_declared_types(small_estate):
    db = erp(small_estate)
    for table, columns in TABLES.items():
        info = db.execute(f"PRAGMA table_info({table})").fetchall()
        assert [r["name"] for r in info] == columns
    types = {r["name"]: r["type"] for r in db.execute("PRAGMA table_info(erp_item)")}
    assert types["unit_cost"] == "NUMERIC(12,2)" and types["created_at"] == "TIMESTAMP"
    assert {r["name"]: r["type"] for r in db.execute("PRAGMA table_info(erp_store)")}[
        "opened_on"
    ] == "DATE"
    assert {r["name"]: r["type"] for r in db.execute("PRAGMA table_info(erp_sell_in)")}[
        "qty"
    ] == "INT"


def test_master_data_values(small_estate):
    db = erp(small_estate)
    items = db.execute("SELECT * FROM erp_item").fetchall()
    assert {r["status"] for r in items} == {"ACTIVE", "DISCONTINUED"}
    for r in items:
        code = r["barcode"]
        assert len(code) == 13 and code.isdigit()
        digits = [int(c) for c in code]
        assert (sum(digits[0:12:2]) + 3 * sum(digits[1:12:2]) + digits[12]) % 10 == 0
    assert any(r["barcode"].startswith("0") for r in items)
    stores = db.execute("SELECT * FROM erp_store").fetchall()
    for s in stores:
        assert (s["dealer_code"] is not None) == (s["store_type"] == "DEALER")
    assert any(s["closed_on"] for s in stores)


def test_one_open_price_row_per_item_and_channel(small_estate):
    db = erp(small_estate)
    open_rows = Counter(
        (r[0], r[1])
        for r in db.execute("SELECT item_no, channel FROM erp_price WHERE valid_to IS NULL")
    )
    assert open_rows and max(open_rows.values()) == 1
    items = {r[0] for r in db.execute("SELECT item_no FROM erp_item")}
    assert {i for i, _ in open_rows} <= items
    assert db.execute("SELECT COUNT(*) FROM erp_price WHERE valid_to IS NOT NULL").fetchone()[0] > 0


def test_rows_change_in_place_and_hard_deletes_are_recorded(small_estate):
    db = erp(small_estate)
    start = "2025-08-20"
    assert (
        db.execute("SELECT COUNT(*) FROM erp_store WHERE updated_at >= ?", (start,)).fetchone()[0]
        > 0
    )
    assert (
        db.execute(
            "SELECT COUNT(*) FROM erp_item WHERE updated_at > created_at AND updated_at >= ?",
            (start,),
        ).fetchone()[0]
        > 0
    )
    deleted = db.execute("SELECT table_name, pk FROM erp_deleted").fetchall()
    assert deleted
    for table, pk in deleted:
        key = {"erp_item": "item_no", "erp_sell_in": "doc_no"}[table]
        assert db.execute(f"SELECT COUNT(*) FROM {table} WHERE {key} = ?", (pk,)).fetchone()[0] == 0


def test_some_items_sell_before_the_erp_knows_them(small_estate):
    db = erp(small_estate)
    created = {r[0]: r[1][:10] for r in db.execute("SELECT item_no, created_at FROM erp_item")}
    early = [
        r
        for r in truth(small_estate, "sales_lines.csv")
        if r["item_no"]
        and (r["item_no"] not in created or created[r["item_no"]] > r["ordered_date"])
    ]
    assert early


def test_campaign_window_holds_a_campaign_and_sell_in_exists(small_estate):
    db = erp(small_estate)
    assert (
        db.execute("SELECT COUNT(*) FROM erp_campaign WHERE starts_at <= '2025-08-30'").fetchone()[
            0
        ]
        > 0
    )
    assert db.execute("SELECT COUNT(*) FROM erp_sell_in").fetchone()[0] > 0


@pytest.mark.parametrize(
    ("store_fen", "factor"), [(9900, 1.25), (9900, 0.55), (99900, 1.3), (199900, 0.7), (4900, 0.72)]
)
def test_a_parity_break_never_rounds_back_to_the_store_price(store_fen, factor):
    new = broken_price(store_fen, factor)

    assert abs(new - store_fen) >= 0.2 * store_fen
    assert (new > store_fen) == (factor > 1)
    assert str(new // 100).endswith("9")  # still a retail price point
