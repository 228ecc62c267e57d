"""The retailer's own controls, run before the marts are published (layer `unified`).

Each rule returns the rows that break it, with the keys an auditor or a
store manager needs to follow up (store, document, item, date). Thresholds
come from `business_rules` in config/ronghe.yml, the same values dbt receives
as vars. They are `business_rule` checks (warn by default): they report
what happened in the business rather than a fault of the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from expectations.checks import at_least, no_rows
from ronghe.quality.spec import Suite


def _inventory() -> Suite:
    # The reconciliation itself (yesterday's on hand + today's movements against
    # today's on hand, with stock_balance_tolerance_units) is computed once, in
    # unified.fct_inventory_daily; the control reads its verdict instead of
    # joining millions of snapshots a second time.
    return Suite(
        layer="unified",
        schema="unified",
        table="fct_inventory_daily",
        name="unified.inventory_rules",
        row_key=("warehouse_code", "wms_sku", "snapshot_date"),
        checks=(
            no_rows(
                "stock_balances",
                "business_rule",
                """
                select warehouse_code, wms_sku, snapshot_date, opening_on_hand,
                    net_movement_units as moved, on_hand as closing_on_hand,
                    discrepancy_units as difference, _origin, _origin_line
                from {batch}
                where is_discrepancy
                """,
                "For every location and SKU, yesterday's on-hand plus today's movements equals "
                "today's on-hand; a difference is a real discrepancy to investigate.",
            ),
            at_least(
                "on_hand",
                0,
                "business_rule",
                "No location ever holds negative stock on hand.",
                rule="no_negative_stock",
            ),
        ),
    )


def _pos_transactions() -> Suite:
    return Suite(
        layer="unified",
        schema="intermediate",
        table="int_pos_transactions_classified",
        name="unified.pos_transaction_rules",
        row_key=("store_code", "txn_id"),
        checks=(
            no_rows(
                "returns_reference_a_sale",
                "business_rule",
                "select store_code, txn_id, business_date, orig_txn_id, total_amount, "
                "_origin, _origin_line from {batch} "
                "where txn_class = 'STORE_RETURN' and return_match = 'UNMATCHED'",
                "Every till return names, through orig_txn_id, a sale that exists (in any "
                "store, on any earlier day).",
            ),
            no_rows(
                "pickups_reference_an_online_order",
                "business_rule",
                """
                select pickups.store_code, pickups.txn_id, pickups.business_date,
                    pickups.ecom_order_id, pickups.total_amount,
                    pickups._origin, pickups._origin_line
                from {batch} as pickups
                left join staging.stg_ecommerce__orders as orders
                    on orders.order_id = pickups.ecom_order_id
                where pickups.txn_class = 'ONLINE_PICKUP' and orders.order_id is null
                """,
                "Every BOPIS handover at a till (payment PREPAID_ONLINE) names an online order "
                "the platforms know; otherwise its money is counted nowhere.",
            ),
        ),
    )


def _coupons() -> Suite:
    return Suite(
        layer="unified",
        schema="staging",
        table="stg_ecommerce__order_coupons",
        name="unified.coupon_rules",
        row_key=("platform", "order_id", "coupon_code"),
        checks=(
            no_rows(
                "coupon_redeemed_once",
                "business_rule",
                """
                with uses as (
                    select coupons.coupon_code,
                        coupons.platform || ':' || coupons.order_id as document,
                        case when orders.paid_at is not null then 1 else 0 end as paid
                    from {batch} as coupons
                    join staging.stg_ecommerce__orders as orders
                        on orders.platform = coupons.platform
                        and orders.order_id = coupons.order_id
                    union all
                    select lines.coupon_code, lines.store_code || ':' || lines.txn_id, 1
                    from staging.stg_pos__lines as lines
                    join intermediate.int_pos_transactions_classified as transactions
                        on transactions.store_code = lines.store_code
                        and transactions.txn_id = lines.txn_id
                    where transactions.txn_class = 'STORE_SALE' and lines.coupon_code is not null
                )
                select coupon_code, count(distinct document) as documents,
                    sum(paid) as paid_documents,
                    min(document) as first_document, max(document) as last_document
                from uses
                group by coupon_code
                having count(distinct document) > 1 and sum(paid) >= 1
                """,
                "A coupon is redeemed at most once: once it paid for an order or a store sale, "
                "no other order or till sale may carry it (even one cancelled later).",
            ),
        ),
    )


def _prices(rules: Mapping[str, Any]) -> Suite:
    tolerance = float(rules["price_parity_tolerance"])
    return Suite(
        layer="unified",
        schema="staging",
        table="stg_erp__prices",
        name="unified.price_rules",
        row_key=("item_no", "channel", "valid_from"),
        checks=(
            no_rows(
                "channel_prices_in_parity",
                "business_rule",
                f"""
                select channel_prices.item_no, channel_prices.channel,
                    channel_prices.valid_from, channel_prices.list_price,
                    store_prices.list_price as store_price,
                    channel_prices.list_price / store_prices.list_price - 1 as deviation,
                    channel_prices._origin, channel_prices._origin_line
                from {{batch}} as channel_prices
                join staging.stg_erp__prices as store_prices
                    on store_prices.item_no = channel_prices.item_no
                    and store_prices.channel = 'STORE'
                    and store_prices.valid_from <= channel_prices.valid_from
                    and (store_prices.valid_to is null
                        or store_prices.valid_to > channel_prices.valid_from)
                where channel_prices.channel <> 'STORE' and store_prices.list_price > 0
                    and abs(channel_prices.list_price / store_prices.list_price - 1) > {tolerance}
                """,
                f"An item's list price on each online channel stays within {tolerance:.0%} of "
                "its store price in force at the same time (price parity).",
            ),
        ),
    )


def _store_days(rules: Mapping[str, Any]) -> Suite:
    ratio = float(rules["store_day_spike_ratio"])
    window = int(rules["spike_baseline_days"])
    minimum = int(rules["spike_min_baseline_days"])
    return Suite(
        layer="unified",
        schema="unified",
        table="fct_order_lines",
        name="unified.store_day_rules",
        row_key=("order_line_key",),
        checks=(
            no_rows(
                "no_store_day_spike",
                "business_rule",
                f"""
                with store_days as (
                    select store_code, event_local_date as sales_date,
                        sum(net_amount) as net_sales
                    from {{batch}}
                    where ordering_channel_code = 'STORE' and line_type = 'SALE'
                    group by store_code, event_local_date
                ),
                baselined as (
                    select store_code, sales_date, net_sales,
                        avg(net_sales) over baseline_window as baseline,
                        count(*) over baseline_window as baseline_days
                    from store_days
                    window baseline_window as (
                        partition by store_code order by sales_date
                        range between interval '{window} days' preceding
                            and interval '1 day' preceding
                    )
                )
                select store_code, sales_date, net_sales, baseline, baseline_days
                from baselined
                where baseline_days >= {minimum} and baseline > 0
                    and net_sales > {ratio} * baseline
                """,
                f"A store-day's net sales stay at or below {ratio:.0%} of that store's average "
                f"over the previous {window} days (judged once {minimum} days of baseline exist).",
            ),
        ),
    )


def _online_orders(rules: Mapping[str, Any]) -> Suite:
    zone = rules["local_timezone"]
    start, end = rules["night_order_start_local"], rules["night_order_end_local"]
    ratio = float(rules["night_order_burst_ratio"])
    minimum = int(rules["night_order_burst_min_orders"])
    window = int(rules["spike_baseline_days"])
    return Suite(
        layer="unified",
        schema="staging",
        table="stg_ecommerce__orders",
        name="unified.online_order_rules",
        row_key=("platform", "order_id"),
        checks=(
            no_rows(
                "no_night_order_burst",
                "business_rule",
                f"""
                with night_orders as (
                    select platform, order_id, buyer_id, created_at, local_created_at,
                        cast(local_created_at as date) as local_date, paid_amount,
                        _origin, _origin_line
                    from (
                        select *, cast((created_at at time zone 'UTC') at time zone '{zone}'
                            as timestamp) as local_created_at
                        from {{batch}} as orders
                    ) as local_orders
                    where cast(local_created_at as time) >= time '{start}'
                        and cast(local_created_at as time) < time '{end}'
                ),
                nights as (
                    select platform, local_date, count(*) as night_orders
                    from night_orders
                    group by platform, local_date
                ),
                baselined as (
                    select platform, local_date, night_orders,
                        avg(night_orders) over previous_nights as baseline
                    from nights
                    window previous_nights as (
                        partition by platform order by local_date
                        range between interval '{window} days' preceding
                            and interval '1 day' preceding
                    )
                )
                select night_orders.platform, night_orders.order_id, night_orders.buyer_id,
                    night_orders.local_created_at, night_orders.local_date,
                    night_orders.paid_amount, baselined.night_orders, baselined.baseline,
                    night_orders._origin, night_orders._origin_line
                from night_orders
                join baselined
                    on baselined.platform = night_orders.platform
                    and baselined.local_date = night_orders.local_date
                where baselined.night_orders >= {minimum}
                    and (baselined.baseline is null
                        or baselined.night_orders > {ratio} * baselined.baseline)
                """,
                f"On each platform, the online orders placed between {start} and {end} local "
                f"time stay below {minimum} a night or within {ratio:g}x the platform's average "
                f"night over the previous {window} days; the orders of a burst night are listed "
                "(bots, fraud, or a platform's clock error).",
            ),
        ),
    )


def _dealers(rules: Mapping[str, Any]) -> Suite:
    ratio = float(rules["channel_stuffing_ratio"])
    minimum = int(rules["channel_stuffing_min_units"])
    return Suite(
        layer="unified",
        schema="staging",
        table="stg_erp__sell_in",
        name="unified.dealer_rules",
        row_key=("doc_no",),
        checks=(
            no_rows(
                "sell_in_matches_sell_out",
                "business_rule",
                f"""
                with sell_in as (
                    select dealer_code, item_no, sum(qty) as sell_in_units
                    from {{batch}} as shipped
                    group by dealer_code, item_no
                ),
                sell_out as (
                    select stores.dealer_code, lines.sku_key as item_no,
                        sum(lines.qty) as sell_out_units
                    from unified.fct_order_lines as lines
                    join staging.stg_erp__stores as stores on stores.store_code = lines.store_code
                    where lines.ordering_channel_code = 'STORE' and stores.dealer_code is not null
                    group by stores.dealer_code, lines.sku_key
                )
                select sell_in.dealer_code, sell_in.item_no, sell_in.sell_in_units,
                    coalesce(sell_out.sell_out_units, 0) as sell_out_units
                from sell_in
                left join sell_out
                    on sell_out.dealer_code = sell_in.dealer_code
                    and sell_out.item_no = sell_in.item_no
                where sell_in.sell_in_units >= {minimum}
                    and sell_in.sell_in_units > {ratio} * coalesce(sell_out.sell_out_units, 0)
                """,
                f"Units shipped to a dealer for an item (sell-in) stay within {ratio:g}x the "
                f"units its stores sold (sell-out), for shipments of {minimum} units or more; "
                "above that, stock is being pushed into the channel.",
            ),
        ),
    )


def suites(config: Mapping[str, Any]) -> list[Suite]:
    rules = config["business_rules"]
    return [
        _inventory(),
        _pos_transactions(),
        _coupons(),
        _prices(rules),
        _store_days(rules),
        _online_orders(rules),
        _dealers(rules),
    ]
