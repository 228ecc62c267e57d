"""The marts on PostgreSQL: the same numbers as on DuckDB, served to `bi_reader` only.

The estate is built on a real PostgreSQL server exactly as on DuckDB (land,
staging, identity, unified, marts), then published, which grants the
`bi_reader` role schema `marts` and nothing else.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest

from ronghe.quality.publish import publish_marts
from ronghe.serving.bi_reader import BI_READER_ROLE
from ronghe.settings import Settings
from ronghe.warehouse import connect
from tests.dbt.pipeline import settings_for
from tests.marts.pipeline import build_warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MARTS = (
    "mart_alerts_for_review",
    "mart_channel_performance",
    "mart_series_performance",
    "mart_member_value",
    "mart_o2o_fulfilment",
    "mart_coupon_redemption",
    "mart_dealer_sell_through",
    "mart_inventory_health",
    "mart_campaign_effect",
)
# Ratios and averages come from a division: DuckDB divides decimals as
# doubles, PostgreSQL exactly, so the last digit may round differently.
DIVIDED = {
    "baseline_value",
    "observed_ratio",
    "average_order_value",
    "return_rate",
    "share_of_period_net_sales",
    "share_of_platform_day_orders",
    "average_pickup_lead_hours",
    "pickup_lead_hours_total",
    "redemption_rate",
    "sell_in_to_sell_out_ratio",
    "stock_out_rate",
    "average_on_hand",
    "turnover_rate",
    "days_of_inventory",
    "expected_daily_outflow",
    "baseline_net_sales",
    "uplift_net_sales",
    "uplift_rate",
    "return_on_marketing_cost",
}
CLOSED = (
    "raw.pos_transactions",
    "staging.stg_pos__members",
    "unified.dim_member",
    "intermediate.int_member_golden_record",
    "identity.member_xref",
    "marts_candidate.mart_member_value",
)
BI_LOGIN, BI_PASSWORD = "bi_dashboard", "bi-dashboard-test"


def _contents(cursor, mart: str) -> tuple[list[str], list[tuple]]:
    cursor.execute(f"select * from marts_candidate.{mart} order by 1")
    return [column[0] for column in cursor.description], cursor.fetchall()


def _assert_same(mart: str, columns: list[str], duck: list[tuple], pg: list[tuple]) -> None:
    assert len(duck) == len(pg), mart
    for duck_row, pg_row in zip(duck, pg, strict=True):
        for column, duck_value, pg_value in zip(columns, duck_row, pg_row, strict=True):
            if column in DIVIDED and duck_value is not None and pg_value is not None:
                assert abs(Decimal(duck_value) - Decimal(pg_value)) <= Decimal("0.01"), (
                    mart,
                    column,
                )
            else:
                assert duck_value == pg_value, (mart, column, duck_row[0])


def test_postgres_marts_hold_duckdbs_numbers_and_bi_reader_reads_marts_only(
    postgres_server, marts_warehouse: Settings, marts_estate: Path, tmp_path: Path
) -> None:
    url = postgres_server.create_database("marts_pg")
    settings = settings_for(marts_estate, url, tmp_path / "home")
    build_warehouse(settings, tmp_path / "target")

    duck = connect(marts_warehouse.warehouse_path)
    pg = psycopg2.connect(url)
    try:
        with pg.cursor() as cursor:
            for mart in MARTS:
                columns, pg_rows = _contents(cursor, mart)
                duck_rows = duck.execute(
                    f"select * from marts_candidate.{mart} order by 1"
                ).fetchall()
                assert pg_rows, f"{mart} is empty"
                _assert_same(mart, columns, duck_rows, pg_rows)
    finally:
        duck.close()
        pg.close()

    published = publish_marts(settings, "bi-reader-test")
    assert published["status"] == "published"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"drop role if exists {BI_LOGIN}")
        cursor.execute(
            f"create role {BI_LOGIN} login password '{BI_PASSWORD}' in role {BI_READER_ROLE}"
        )
    admin.close()

    reader = psycopg2.connect(postgres_server.url("marts_pg", BI_LOGIN, BI_PASSWORD))
    reader.autocommit = True
    try:
        with reader.cursor() as cursor:
            for mart in (*MARTS, "mart_sales_daily"):
                cursor.execute(f"select count(*) from marts.{mart}")
                assert cursor.fetchone()[0] >= 0
            cursor.execute("select count(*) from marts.mart_channel_performance")
            assert cursor.fetchone()[0] > 0
            # dbt's descriptions reach the published marts BI tools read
            cursor.execute("select obj_description('marts.mart_channel_performance'::regclass)")
            assert cursor.fetchone()[0]
            cursor.execute("select col_description('marts.mart_channel_performance'::regclass, 1)")
            assert cursor.fetchone()[0]
            for relation in CLOSED:
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cursor.execute(f"select 1 from {relation} limit 1")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("create table marts.scratch (id integer)")
    finally:
        reader.close()
