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


def _channel_performance(config: Mapping[str, Any]) -> Suite:
    tolerance = float(config["quality"]["reconciliation_tolerance_yuan"])
    # Each period grain holds every sale once: per grain, the totals equal the facts'.
    reconcile = f"""
        with mart as (
            select period_grain, sum(units) as units, sum(net_sales) as net_sales
            from {{batch}} as mart_rows
            group by period_grain
        ),
        facts as (
            select sum(case when line_type = 'SALE' then qty else 0 end) as units,
                sum(net_amount) as net_sales
            from unified.fct_order_lines
        )
        select mart.period_grain, mart.units as mart_units, facts.units as fact_units,
            mart.net_sales as mart_net_sales, facts.net_sales as fact_net_sales
        from mart
        cross join facts
        where mart.units <> facts.units
            or abs(mart.net_sales - facts.net_sales) > {tolerance}
    """
    return Suite(
        layer="marts",
        schema=CANDIDATE_SCHEMA,
        table="mart_channel_performance",
        row_key=("period_grain", "period_start", "channel_code", "store_code"),
        checks=(
            has_rows(why="a build that lost every sale must not replace the published marts"),
            at_least("units", 0, "validity", "Units sold are never negative."),
            at_least("orders", 0, "validity", "Order counts are never negative."),
            no_rows(
                "every_period_grain_reconciles_to_order_lines",
                "reconciliation",
                reconcile,
                "For each period grain (DAY, WEEK, MONTH), units and net sales equal the totals "
                f"of unified.fct_order_lines (money within {tolerance} yuan).",
            ),
        ),
    )


def _series_performance(config: Mapping[str, Any]) -> Suite:
    return Suite(
        layer="marts",
        schema=CANDIDATE_SCHEMA,
        table="mart_series_performance",
        row_key=("period_grain", "period_start", "channel_code", "store_code", "series"),
        checks=(
            has_rows(why="a build that lost every sale must not replace the published marts"),
            at_least("units", 0, "validity", "Units sold are never negative."),
            at_least("returned_units", 0, "validity", "Returned units are a positive count."),
        ),
    )


def _alerts(config: Mapping[str, Any]) -> Suite:
    # A quiet estate has no alerts: emptiness is not a failure here. Ratios are
    # stored to 4 decimals, so one just past its threshold (a JD price 10.001%
    # under the store's) may round onto it: only a ratio on the accepted side
    # of the threshold is a wrong alert.
    below_threshold = """
        select alert_type, subject_key, observed_ratio, threshold
        from {batch}
        where (alert_type in ('STORE_DAY_SPIKE', 'NIGHT_ORDER_BURST')
                and observed_ratio is not null and observed_ratio < threshold)
            or (alert_type in ('WEEK_OVER_WEEK_SWING', 'PRICE_PARITY_BREAK')
                and abs(observed_ratio - 1) < threshold)
    """
    return Suite(
        layer="marts",
        schema=CANDIDATE_SCHEMA,
        table="mart_alerts_for_review",
        row_key=("alert_type", "subject_key"),
        checks=(
            no_rows(
                "alerts_exceed_their_threshold",
                "validity",
                below_threshold,
                "Every alert is beyond the threshold it names, so reviewers are not sent "
                "patterns the configured rules accept.",
            ),
        ),
    )


def _member_value(config: Mapping[str, Any]) -> Suite:
    return Suite(
        layer="marts",
        schema=CANDIDATE_SCHEMA,
        table="mart_member_value",
        row_key=("member_key",),
        checks=(
            at_least("purchases", 1, "validity", "A member is in the mart for a purchase."),
            at_least("recency_days", 0, "validity", "No purchase lies after as_of_date."),
            at_least("recency_score", 1, "validity", "RFM scores run from 1 to 5."),
        ),
    )


def _o2o_fulfilment(config: Mapping[str, Any]) -> Suite:
    return Suite(
        layer="marts",
        schema=CANDIDATE_SCHEMA,
        table="mart_o2o_fulfilment",
        row_key=("order_date", "platform", "fulfilment", "store_code"),
        checks=(
            at_least("orders", 1, "validity", "A row exists for at least one order."),
            at_least(
                "average_pickup_lead_hours",
                0,
                "validity",
                "An order is collected after it was placed.",
            ),
        ),
    )


def _coupon_redemption(config: Mapping[str, Any]) -> Suite:
    return Suite(
        layer="marts",
        schema=CANDIDATE_SCHEMA,
        table="mart_coupon_redemption",
        row_key=("issuing_channel", "redeeming_channel"),
        checks=(at_least("coupons", 1, "validity", "A row exists for at least one coupon."),),
    )


def _dealer_sell_through(config: Mapping[str, Any]) -> Suite:
    return Suite(
        layer="marts",
        schema=CANDIDATE_SCHEMA,
        table="mart_dealer_sell_through",
        row_key=("dealer_code", "item_no"),
        checks=(at_least("sell_in_units", 0, "validity", "Sell-in units are never negative."),),
    )


def _inventory_health(config: Mapping[str, Any]) -> Suite:
    return Suite(
        layer="marts",
        schema=CANDIDATE_SCHEMA,
        table="mart_inventory_health",
        row_key=("week_start", "warehouse_code", "wms_sku"),
        checks=(
            at_least("snapshot_days", 1, "validity", "A row stands for at least one snapshot."),
            at_least("stock_out_rate", 0, "validity", "A stock-out rate is a share."),
            at_least("outflow_units", 0, "validity", "Outflow counts units that left."),
        ),
    )


def _campaign_effect(config: Mapping[str, Any]) -> Suite:
    return Suite(
        layer="marts",
        schema=CANDIDATE_SCHEMA,
        table="mart_campaign_effect",
        row_key=("campaign_id",),
        checks=(
            at_least("marketing_cost", 0, "validity", "Marketing costs are never negative."),
            at_least(
                "campaign_days_with_history",
                0,
                "validity",
                "Measured days are a count.",
            ),
        ),
    )


def suites(config: Mapping[str, Any]) -> list[Suite]:
    return [
        _sales_daily(config),
        _channel_performance(config),
        _series_performance(config),
        _alerts(config),
        _member_value(config),
        _o2o_fulfilment(config),
        _coupon_redemption(config),
        _dealer_sell_through(config),
        _inventory_health(config),
        _campaign_effect(config),
    ]
