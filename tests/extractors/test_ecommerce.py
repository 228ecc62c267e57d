"""The e-commerce extractor against the real API server, with and without injected faults."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from extractors import ecommerce_columns
from extractors.ecommerce import extract_ecommerce
from extractors.ecommerce_client import ApiAuthError, EcommerceApiError
from extractors.http_client import RetryPolicy
from ronghe.ecommerce_api import start_server
from tests.extractors.helpers import assert_ledger_balanced, query, settings_for, snapshot
from tests.support.ecommerce_estate import (
    PLATFORMS,
    SmallEstate,
    build_small_estate,
    order,
    write_jsonl,
)

FAST_RETRIES = RetryPolicy(max_attempts=12, backoff_seconds=0.002, backoff_max_seconds=0.02)
PAGE_SIZE = 7  # small pages, so every walk crosses many page boundaries
LATE = "2025-03-01T23:00:00Z"  # after every other version of the small estate

BAD_PAID = order("MO900", "MALL", "2025-03-01T03:00:00Z", paid_amount="12,34")
BAD_QTY = order("MO901", "MALL", "2025-03-01T03:00:00Z")
BAD_QTY["items"][1]["qty"] = "1.5"
NO_ITEMS = order("MO902", "MALL", "2025-03-01T04:00:00Z", items=None)
NEW_FIELDS = order("MO903", "MALL", "2025-03-01T04:00:00Z", gift_wrap=True)
NEW_FIELDS["items"][0]["serial_no"] = "SN-1"
REPEATED = order("MO904", "MALL", "2025-03-01T05:00:00Z")
LATEST_BAD = order("JO999", "JD", LATE, created_at="yesterday")
BAD_ORDERS = {"MO900", "MO901", "MO902", "JO999"}

PAGING_COLUMNS = ("_batch_id", "_origin", "_origin_line")
ORDER_COLUMNS = ("order_id", "platform", "updated_at", "status", "paid_amount", "buyer_name")
ITEM_COLUMNS = ("line_id", "platform_sku", "qty", "unit_price", "discount")


def _estate(root: Path) -> SmallEstate:
    built = build_small_estate(root, orders_per_platform=20)
    extra = {
        "MALL": [BAD_PAID, BAD_QTY, NO_ITEMS, NEW_FIELDS, REPEATED, REPEATED],
        "JD": [LATEST_BAD],
    }
    for platform, versions in extra.items():
        built.records[f"orders/{platform}"].extend(versions)
        write_jsonl(
            built.root / "ecommerce" / platform / "orders.jsonl",
            built.records[f"orders/{platform}"],
        )
    return built


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> SmallEstate:
    """Shared by the tests that only read it (one changes its own copy)."""
    return _estate(tmp_path_factory.mktemp("ecommerce") / "sources")


@pytest.fixture(scope="module")
def clean(tmp_path_factory, estate) -> tuple:
    """Settings and result of one run without injected faults, for comparisons."""
    return _land_once(tmp_path_factory.mktemp("clean"), estate, "clean")


def _settings(tmp_path: Path, estate: SmallEstate, server, name: str):
    base = settings_for(estate.root, str(tmp_path / f"{name}.duckdb"))
    return dataclasses.replace(base, ecom_api_url=server.url, ecom_api_token=server.token)


def _extract(settings, retry_policy: RetryPolicy = FAST_RETRIES) -> dict:
    result = extract_ecommerce(settings, retry_policy=retry_policy, page_size=PAGE_SIZE)
    assert_ledger_balanced(settings)
    return result


def _land_once(tmp_path: Path, estate: SmallEstate, name: str, **server_options):
    with start_server(estate.root, token="tok", **server_options) as server:
        settings = _settings(tmp_path, estate, server, name)
        return settings, _extract(settings)


def _unique_versions(estate: SmallEstate) -> list[dict]:
    """Every stored order version once (byte-identical copies once), bad ones left out."""
    seen, versions = set(), []
    for platform in PLATFORMS:
        for version in estate.records[f"orders/{platform}"]:
            text = json.dumps(version, sort_keys=True)
            if version["order_id"] not in BAD_ORDERS and text not in seen:
                seen.add(text)
                versions.append(version)
    return versions


def _raw_data(settings) -> dict[str, list[tuple]]:
    """The raw tables without what depends on how the pages fell (batch, request, position),
    columns in name order (a drift column is added wherever the first batch met it)."""
    data = {}
    for table, rows in snapshot(settings).items():
        if not table.startswith("raw.ecom_"):
            continue
        name = table.split(".")[1]
        columns = [c for (c,) in query(settings, _columns_sql(name)) if c != "_loaded_at"]
        keep = sorted((c, i) for i, c in enumerate(columns) if c not in PAGING_COLUMNS)
        data[table] = sorted(tuple(row[i] for _, i in keep) for row in rows)
    return data


def _columns_sql(table: str) -> str:
    return (
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' "
        f"AND table_name = '{table}' ORDER BY ordinal_position"
    )


def test_every_version_lands_once_split_into_three_tables(estate, clean):
    settings, result = clean
    versions = _unique_versions(estate)

    landed = query(settings, f"SELECT {', '.join(ORDER_COLUMNS)} FROM raw.ecom_orders")
    assert sorted(landed) == sorted(tuple(v[c] for c in ORDER_COLUMNS) for v in versions)
    items = query(
        settings,
        f"SELECT order_id, platform, order_updated_at, {', '.join(ITEM_COLUMNS)} "
        "FROM raw.ecom_order_items",
    )
    # Two versions of one order at one instant share the version key of their items,
    # so an item row equal to one already read is the same row: it lands once.
    assert sorted(items) == sorted(
        {
            (v["order_id"], v["platform"], v["updated_at"], *(str(i[c]) for c in ITEM_COLUMNS))
            for v in versions
            for i in v["items"]
        }
    )
    coupons = query(
        settings, "SELECT order_id, order_updated_at, coupon_code FROM raw.ecom_order_coupons"
    )
    assert sorted(coupons) == sorted(
        {(v["order_id"], v["updated_at"], code) for v in versions for code in v["coupons"]}
    )
    stored = [v for p in PLATFORMS for v in estate.records[f"orders/{p}"]]
    good = [v for v in stored if v["order_id"] not in BAD_ORDERS]
    # Byte-identical copies (MO904, and repeats the builder wrote) are duplicates.
    assert result["streams"]["orders"]["duplicate"] == len(good) - len(versions) > 0

    for name in ("customers", "listings"):
        count = query(settings, f"SELECT count(*) FROM raw.ecom_{name}")[0][0]
        assert count == sum(len(estate.records[f"{name}/{p}"]) for p in PLATFORMS)
    assert query(settings, "SELECT count(*) FROM raw.ecom_coupons")[0][0] == 30


def test_rows_keep_their_origin_request_and_page_position(clean):
    settings, _ = clean
    first_page = "GET /v1/orders?platform=TMALL&page_size=7"
    positions = query(
        settings,
        f"SELECT _origin_line FROM raw.ecom_orders WHERE _origin = '{first_page}' UNION ALL "
        f"SELECT origin_line FROM ops.skipped_rows WHERE origin = '{first_page}' "
        "AND stream = 'orders' ORDER BY 1",
    )
    assert positions == [(line,) for line in range(1, 8)]
    later = query(settings, "SELECT _origin FROM raw.ecom_orders WHERE _origin LIKE '%cursor=%'")
    assert later and all(o.startswith("GET /v1/orders?platform=") for (o,) in later)
    # An item row sits at its order's page position, in the same request.
    orphans = query(
        settings,
        "SELECT count(*) FROM raw.ecom_order_items i WHERE NOT EXISTS (SELECT 1 "
        "FROM raw.ecom_orders o WHERE o._origin = i._origin AND o._origin_line = i._origin_line "
        "AND o.order_id = i.order_id AND o.updated_at = i.order_updated_at)",
    )
    assert orphans == [(0,)]


def test_a_version_that_breaks_the_contract_is_quarantined_whole(clean):
    settings, result = clean
    reasons = dict(
        query(
            settings,
            "SELECT json_extract_string(raw_text, '$.order_id'), reason FROM ops.quarantine "
            "WHERE stream = 'orders'",
        )
    )
    assert reasons == {
        "MO900": "field paid_amount = 12,34 does not parse as decimal",
        "MO901": "items[2]: field qty = 1.5 does not parse as integer",
        "MO902": "items must be a list, got None",
        "JO999": "field created_at = yesterday does not parse as timestamp",
    }
    raw = query(
        settings,
        "SELECT raw_text FROM ops.quarantine WHERE stream = 'orders' AND raw_text LIKE '%MO900%'",
    )
    assert json.loads(raw[0][0]) == BAD_PAID
    for table in ("ecom_orders", "ecom_order_items", "ecom_order_coupons"):
        landed = query(
            settings,
            f"SELECT count(*) FROM raw.{table} WHERE order_id IN ('MO900', 'MO901', 'MO902')",
        )
        assert landed == [(0,)], table
    # MO901's two items and MO900's items are set aside with their order.
    assert result["streams"]["order_items"]["quarantined"] == 2 + 2 + 2
    child_reasons = query(
        settings, "SELECT DISTINCT reason FROM ops.quarantine WHERE stream = 'order_items'"
    )
    assert all(r.startswith("its order version is quarantined: ") for (r,) in child_reasons)


def test_new_fields_land_as_columns_and_are_reported_as_drift(clean):
    settings, _ = clean
    assert query(settings, "SELECT gift_wrap FROM raw.ecom_orders WHERE gift_wrap IS NOT NULL") == [
        ("true",)
    ]
    assert query(
        settings, "SELECT order_id, serial_no FROM raw.ecom_order_items WHERE serial_no IS NOT NULL"
    ) == [("MO903", "SN-1")]
    drift = query(
        settings, "SELECT DISTINCT stream, column_name, change FROM ops.schema_drift ORDER BY 1"
    )
    assert drift == [("order_items", "serial_no", "added"), ("orders", "gift_wrap", "added")]


def test_twenty_percent_faults_land_exactly_the_same_rows(tmp_path, estate, clean):
    faulty, result = _land_once(
        tmp_path, estate, "faulty", fault_rate=0.1, throttle_rate=0.1, retry_after=0, seed=3
    )
    assert _raw_data(faulty) == _raw_data(clean[0])
    retried = {status for walk in result["api"].values() for status in walk["retries"]}
    assert {"429", "500", "503"} <= retried


def test_expired_cursors_restart_the_walk_without_landing_twice(tmp_path, estate, clean):
    clean_settings, clean_result = clean
    gone, result = _land_once(tmp_path, estate, "gone", expire_cursor_rate=0.3, seed=4)
    assert _raw_data(gone) == _raw_data(clean_settings)
    assert sum(walk["restarts"] for walk in result["api"].values()) > 3
    assert result["duplicate"] > clean_result["duplicate"]
    assert result["loaded"] == clean_result["loaded"]
    details = query(
        gone, "SELECT DISTINCT split_part(detail, ' ', 1) FROM ops.skipped_rows ORDER BY 1"
    )
    assert details == [("repeats",)]


def test_running_again_changes_nothing(tmp_path, estate):
    with start_server(estate.root, token="tok") as server:
        settings = _settings(tmp_path, estate, server, "rerun")
        _extract(settings)
        before = snapshot(settings)
        again = _extract(settings)
        assert not again["committed"]
        assert again["read"] > 0  # the versions at each watermark were read again
        assert snapshot(settings) == before
        # A backfill of the whole interval (watermarks forgotten) lands nothing new either:
        # every version, the quarantined ones included, is recognised as read before.
        query(settings, "DELETE FROM ops.extract_state WHERE source = 'ecommerce'")
        backfill = _extract(settings)
        after = snapshot(settings)
    assert backfill["loaded"] == backfill["quarantined"] == 0
    assert backfill["duplicate"] == backfill["read"] > 0
    for table in [t for t in before if t.startswith("raw.")] + ["ops.quarantine"]:
        assert after[table] == before[table], table

    def watermarks(rows: list[tuple]) -> list[tuple]:
        return [row[:4] for row in rows]  # without the batch that wrote them

    assert watermarks(after["ops.extract_state"]) == watermarks(before["ops.extract_state"])


def test_the_next_run_lands_only_what_changed(tmp_path):
    estate = _estate(tmp_path / "sources")
    with start_server(estate.root, token="tok") as server:
        settings = _settings(tmp_path, estate, server, "incremental")
        first = _extract(settings)
    later = [
        order("MO001", "MALL", "2025-03-02T00:00:00Z", version=3),
        order("MO777", "MALL", "2025-03-02T00:00:00Z"),
    ]
    estate.records["orders/MALL"].extend(later)
    write_jsonl(estate.root / "ecommerce" / "MALL" / "orders.jsonl", estate.records["orders/MALL"])
    with start_server(estate.root, token="tok") as server:
        settings = dataclasses.replace(settings, ecom_api_url=server.url)
        second = _extract(settings)
    assert second["streams"]["orders"]["loaded"] == 2
    assert second["read"] < first["read"] / 5
    assert query(
        settings,
        "SELECT value FROM ops.extract_state WHERE stream = 'orders' "
        "AND name = 'updated_since.MALL'",
    ) == [("2025-03-02T00:00:00Z",)]


def test_a_refused_token_fails_at_once_and_names_the_setting(tmp_path, estate):
    with start_server(estate.root, token="right") as server:
        settings = dataclasses.replace(
            _settings(tmp_path, estate, server, "auth"), ecom_api_token="wrong"
        )
        with pytest.raises(ApiAuthError, match="RONGHE_ECOM_API_TOKEN"):
            extract_ecommerce(settings, retry_policy=FAST_RETRIES)
        assert dict(server.api.status_counts) == {401: 1}
    assert query(settings, "SELECT count(*) FROM ops.load_batches") == [(0,)]


def test_a_run_that_gives_up_keeps_full_pages_and_the_next_run_completes(tmp_path, estate, clean):
    impatient = RetryPolicy(max_attempts=2, backoff_seconds=0.001)
    with start_server(estate.root, token="tok", fault_rate=0.5, seed=8) as server:
        settings = _settings(tmp_path, estate, server, "resumed")
        with pytest.raises(EcommerceApiError, match="failed after 2 attempts"):
            extract_ecommerce(settings, retry_policy=impatient, page_size=PAGE_SIZE)
    partial = assert_ledger_balanced(settings)
    assert partial["ecommerce"]["orders"]["loaded"] > 0
    with start_server(estate.root, token="tok") as server:
        _extract(dataclasses.replace(settings, ecom_api_url=server.url))
    assert _raw_data(settings) == _raw_data(clean[0])


def test_missing_settings_are_named(tmp_path, estate):
    settings = settings_for(estate.root, str(tmp_path / "none.duckdb"))
    with pytest.raises(EcommerceApiError, match="RONGHE_ECOM_API_URL"):
        extract_ecommerce(dataclasses.replace(settings, ecom_api_url=None))
    with pytest.raises(ApiAuthError, match="RONGHE_ECOM_API_TOKEN"):
        extract_ecommerce(
            dataclasses.replace(settings, ecom_api_url="http://127.0.0.1:1", ecom_api_token=None)
        )


@pytest.mark.postgres
def test_lands_the_same_into_postgresql(tmp_path, estate, clean, postgres_server):
    with start_server(estate.root, token="tok", expire_cursor_rate=0.2, seed=2) as server:
        settings = dataclasses.replace(
            _settings(tmp_path, estate, server, "unused"),
            warehouse=postgres_server.create_database("ecommerce_landing"),
        )
        _extract(settings)
        again = _extract(settings)
    assert not again["committed"]
    assert _raw_data(settings) == _raw_data(clean[0])


def test_pages_held_as_columns_land_as_they_do_object_by_object(tmp_path, monkeypatch):
    """The columnar path (the contract checked in SQL) and the exact path (object by object)
    land the same rows, quarantine, drift and ledger, numbers with the digits sent."""
    estate = _estate(tmp_path / "sources")
    customers = estate.records["customers/MALL"]
    bad_customer = {**customers[0], "buyer_id": "U-BAD", "registered_at": "someday"}
    numeric_customer = (
        '{"buyer_id":"U-NUM","platform":"MALL","phone":13800138000,"loyalty":1.50,'
        '"updated_at":"2025-03-01T06:00:00Z"}'
    )
    write_jsonl(
        estate.root / "ecommerce" / "MALL" / "customers.jsonl",
        [*customers, bad_customer, numeric_customer],
    )
    numeric_order = json.dumps(order("MO905", "MALL", "2025-03-01T06:00:00Z"))
    for amount in ('"1998.00"', '"1999.00"', '"0.00"'):
        numeric_order = numeric_order.replace(amount, amount.strip('"'))
    write_jsonl(
        estate.root / "ecommerce" / "MALL" / "orders.jsonl",
        [*estate.records["orders/MALL"], numeric_order],
    )

    held_pages = []
    plain_page = ecommerce_columns.plain_page

    def recording(page, is_orders):
        held = plain_page(page, is_orders)
        held_pages.append((is_orders, held is not None))
        return held

    with monkeypatch.context() as patch:
        patch.setattr(ecommerce_columns, "plain_page", recording)
        columnar, columnar_result = _land_once(tmp_path, estate, "columnar")
    # Orders and the other collections alike took the columnar path (and, for the pages
    # with a `true` or a missing list, the exact one).
    assert {(True, True), (False, True), (True, False)} <= set(held_pages)
    with monkeypatch.context() as patch:
        patch.setattr(ecommerce_columns, "plain_page", lambda page, is_orders: None)
        exact, exact_result = _land_once(tmp_path, estate, "exact")

    assert _raw_data(columnar) == _raw_data(exact)
    assert query(
        columnar,
        "SELECT o.paid_amount, o.shipping_fee, i.unit_price FROM raw.ecom_orders o "
        "JOIN raw.ecom_order_items i USING (order_id) WHERE order_id = 'MO905' AND i.line_id = '1'",
    ) == [("1998.00", "0.00", "1999.00")]
    assert query(
        columnar, "SELECT phone, loyalty FROM raw.ecom_customers WHERE buyer_id = 'U-NUM'"
    ) == [("13800138000", "1.50")]
    quarantined = (
        "SELECT stream, regexp_replace(origin, '&cursor=.*', ''), origin_line, reason, raw_text "
        "FROM ops.quarantine ORDER BY ALL"
    )
    assert query(columnar, quarantined) == query(exact, quarantined)
    assert ("customers", "field registered_at = someday does not parse as timestamp") in {
        (row[0], row[3]) for row in query(columnar, quarantined)
    }
    drift = "SELECT DISTINCT stream, column_name, change FROM ops.schema_drift ORDER BY ALL"
    assert query(columnar, drift) == query(exact, drift)
    assert columnar_result["streams"] == exact_result["streams"]
