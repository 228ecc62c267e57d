"""The same dbt project on PostgreSQL: it builds, its tests pass, and it holds DuckDB's numbers."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from ronghe.settings import Settings
from ronghe.warehouse import connect
from tests.dbt.conftest import BUILT_MODELS
from tests.dbt.pipeline import build, land_estate, settings_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# What each engine must agree on; landing times and API cursors differ between the two loads.
COMPARED = {
    "mart_sales_daily": "select * from marts_candidate.mart_sales_daily",
    "dim_store": "select * from unified.dim_store",
    "fct_order_lines": """
        select order_line_key, order_key, line_type, channel_key, fulfilment, store_code,
            store_version_key, fulfilling_location_code, event_at, event_local_date,
            pickup_txn_id, orig_txn_id, return_match, member_source_record_id, product_code,
            qty, unit_price, gross_amount, discount_amount, net_amount, campaign_id,
            campaign_attribution
        from unified.fct_order_lines
    """,
    "fct_orders": """
        select order_key, document_type, channel_key, store_code, ordered_at, source_status,
            member_source_record_id, line_count, units_sold, units_returned, net_amount,
            source_total_amount
        from unified.fct_orders
    """,
    "fct_shipments": """
        select shipment_id, platform, order_key, status, paid_at, shipped_at, delivered_at,
            hours_paid_to_shipped
        from unified.fct_shipments
    """,
}


def _as_text(rows: list[tuple]) -> list[tuple]:
    return sorted(tuple("" if value is None else str(value) for value in row) for row in rows)


def _on_postgres(url: str) -> dict[str, list[tuple]]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            contents = {}
            for name, sql in COMPARED.items():
                cursor.execute(sql)
                contents[name] = _as_text(cursor.fetchall())
            return contents
    finally:
        conn.close()


def _on_duckdb(settings: Settings) -> dict[str, list[tuple]]:
    # dbt-duckdb keeps the file open in this process: open it with the same configuration.
    con = connect(settings.warehouse_path)
    try:
        return {name: _as_text(con.execute(sql).fetchall()) for name, sql in COMPARED.items()}
    finally:
        con.close()


def test_postgres_builds_the_same_sales(
    postgres_server, built_warehouse: Settings, sales_estate: Path, tmp_path: Path
) -> None:
    url = postgres_server.create_database("dbt_sales")
    settings = settings_for(sales_estate, url, tmp_path / "home")
    land_estate(settings)
    build(settings, tmp_path / "target", "--select", *BUILT_MODELS)

    on_postgres, on_duckdb = _on_postgres(url), _on_duckdb(built_warehouse)
    for name in COMPARED:
        assert on_postgres[name], f"{name} is empty"
        assert on_postgres[name] == on_duckdb[name], name

    # The incremental path (pre-hooks, delete+insert) on PostgreSQL: nothing new, nothing moves.
    build(settings, tmp_path / "target", "--select", *BUILT_MODELS)
    assert _on_postgres(url) == on_postgres
