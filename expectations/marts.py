"""Marts: the contract of what BI reads, checked on the candidate build before publishing.

dbt builds the marts into `marts_candidate`; these suites validate that
candidate, and `ronghe.quality.publish_marts` copies it to `marts` only when
no blocking rule failed. Every table of `marts_candidate` needs a suite here
(`quality.publish.require_suite_per_mart`), so no mart is published unchecked.

Keys (not null, unique, relationships) are dbt's: the marts' enforced
contracts and dbt tests own them, and a failed dbt build never reaches the
publish step. These suites own what dbt does not: volume, value ranges BI
relies on, and reconciliation with the facts (docs/decisions/quality.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from expectations.checks import at_least, has_rows, no_rows
from ronghe.quality.spec import Suite

CANDIDATE_SCHEMA = "marts_candidate"


def _sales_daily(config: Mapping[str, Any]) -> Suite:
    tolerance = float(config["quality"]["reconciliation_tolerance_yuan"])
    reconcile = f"""
        with mart as (
            select sales_date, channel_code,
                sum(units) as units, sum(returned_units) as returned_units,
                sum(gross_sales) as gross_sales, sum(discounts) as discounts,
                sum(returns) as returns
            from {{batch}} as mart_rows
            group by sales_date, channel_code
        ),
        facts as (
            select event_local_date as sales_date, ordering_channel_code as channel_code,
                sum(case when line_type = 'SALE' then qty else 0 end) as units,
                -sum(case when line_type = 'RETURN' then qty else 0 end) as returned_units,
                sum(case when line_type = 'SALE' then gross_amount else 0 end) as gross_sales,
                sum(case when line_type = 'SALE' then discount_amount else 0 end) as discounts,
                -sum(case when line_type = 'RETURN' then net_amount else 0 end) as returns
            from unified.fct_order_lines
            group by event_local_date, ordering_channel_code
        )
        select
            coalesce(mart.sales_date, facts.sales_date) as sales_date,
            coalesce(mart.channel_code, facts.channel_code) as channel_code,
            mart.units as mart_units, facts.units as fact_units,
            mart.returned_units as mart_returned_units, facts.returned_units as fact_returned_units,
            mart.gross_sales as mart_gross_sales, facts.gross_sales as fact_gross_sales,
            mart.discounts as mart_discounts, facts.discounts as fact_discounts,
            mart.returns as mart_returns, facts.returns as fact_returns
        from mart
        full outer join facts
            on mart.sales_date = facts.sales_date and mart.channel_code = facts.channel_code
        where mart.sales_date is null or facts.sales_date is null
            or mart.units <> facts.units
            or mart.returned_units <> facts.returned_units
            or abs(mart.gross_sales - facts.gross_sales) > {tolerance}
            or abs(mart.discounts - facts.discounts) > {tolerance}
            or abs(mart.returns - facts.returns) > {tolerance}
    """
    key = ("sales_date", "channel_code", "store_code")
    return Suite(
        layer="marts",
        schema=CANDIDATE_SCHEMA,
        table="mart_sales_daily",
        row_key=key,
        checks=(
            has_rows(why="a build that lost every sale must not replace the published marts"),
            at_least(
                "units", 0, "validity", "Units sold are never negative; returns are counted apart."
            ),
            at_least(
                "returned_units",
                0,
                "validity",
                "Returned units are a positive count of units back.",
            ),
            at_least("orders", 0, "validity", "Order counts are never negative."),
            at_least("gross_sales", 0, "validity", "Gross sales are never negative."),
            no_rows(
                "totals_reconcile_to_order_lines",
                "reconciliation",
                reconcile,
                "Per business day and channel, units, returned units, gross sales, discounts "
                "and returns equal the totals of unified.fct_order_lines (money within "
                f"{tolerance} yuan), so no counted line is lost or counted twice on the way.",
            ),
        ),
    )


def suites(config: Mapping[str, Any]) -> list[Suite]:
    return [_sales_daily(config)]
