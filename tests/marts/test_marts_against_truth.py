"""The marts against the estate's ground truth (`_truth/`).

Sales must reconcile with `_truth/sales_lines.csv` in every period grain,
BOPIS orders count once, returns are netted, and every spike, night-order
burst, price-parity break and channel-stuffing delivery the generator
injected (`_truth/defects.csv`) must reach the marts that flag them.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ronghe.settings import Settings
from ronghe.warehouse import connect

pytestmark = pytest.mark.slow

# Counted sales in the truth: see tests/dbt/test_sales_mart.py for why.
COUNTED_TRUTH = """
    select *,
        cast(net_amount as decimal(18, 2)) as net,
        cast(qty as integer) as units
    from read_csv('{path}', all_varchar = true)
    where status in ('COMPLETED', 'RETURNED')
        and settled = '1'
        and order_status <> 'CREATED'
"""

ALERTED_DEFECTS = {
    "sales_spike": "STORE_DAY_SPIKE",
    "night_order_burst": "NIGHT_ORDER_BURST",
    "price_parity_break": "PRICE_PARITY_BREAK",
}


@pytest.fixture(scope="module")
def warehouse(marts_warehouse: Settings) -> duckdb.DuckDBPyConnection:
    # dbt-duckdb keeps the file open in this process: open it with the same configuration.
    con = connect(marts_warehouse.warehouse_path)
    truth = Path(marts_warehouse.sources_dir) / "_truth"
    con.execute(f"create temp view truth as {COUNTED_TRUTH.format(path=truth / 'sales_lines.csv')}")
    con.execute(
        "create temp view defects as "
        f"select * from read_csv('{truth / 'defects.csv'}', all_varchar = true)"
    )
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


@pytest.mark.parametrize("grain", ["DAY", "WEEK", "MONTH"])
def test_channel_performance_reconciles_to_the_truth_in_every_grain(warehouse, grain) -> None:
    truth = rows(
        warehouse,
        """
        select channel, sum(net),
            sum(case when status = 'COMPLETED' then units else 0 end),
            count(distinct case when status = 'COMPLETED' then order_key end)
        from truth group by 1 order by 1
        """,
    )
    mart = rows(
        warehouse,
        f"""
        select channel_code, sum(net_sales), sum(units), sum(orders)
        from marts_candidate.mart_channel_performance where period_grain = '{grain}'
        group by 1 order by 1
        """,
    )
    assert mart == truth
    assert sum(net for _, net, *_ in truth) > Decimal("100000")


def test_channel_shares_and_returns_add_up(warehouse) -> None:
    # Per period, the shares of all rows make one; per row, net = sales - returns.
    broken = rows(
        warehouse,
        """
        select period_grain, period_start
        from marts_candidate.mart_channel_performance
        group by 1, 2
        having abs(sum(share_of_period_net_sales) - 1) > 0.001
            or sum(net_sales) <> min(period_net_sales)
            or sum(sales_amount - returns) <> sum(net_sales)
        """,
    )
    assert broken == []
    returned = rows(
        warehouse,
        "select -sum(net) from truth where status = 'RETURNED'",
    )[0][0]
    mart_returns = rows(
        warehouse,
        "select sum(returns) from marts_candidate.mart_channel_performance "
        "where period_grain = 'MONTH'",
    )[0][0]
    assert returned > 0 and mart_returns == returned


def test_bopis_and_ship_from_store_are_counted_once_as_online_cross_channel_sales(
    warehouse,
) -> None:
    truth = rows(
        warehouse,
        """
        select channel, sum(net), count(distinct order_key)
        from truth
        where status = 'COMPLETED' and fulfilment in ('BOPIS', 'SHIP_FROM_STORE')
        group by 1 order by 1
        """,
    )
    performance = rows(
        warehouse,
        """
        select channel_code, sum(cross_channel_sales)
        from marts_candidate.mart_channel_performance
        where period_grain = 'DAY' and cross_channel_sales <> 0
        group by 1 order by 1
        """,
    )
    fulfilment = rows(
        warehouse,
        """
        select platform, sum(sales_amount), sum(orders)
        from marts_candidate.mart_o2o_fulfilment
        where fulfilment in ('BOPIS', 'SHIP_FROM_STORE')
        group by 1 order by 1
        """,
    )
    assert performance == [(channel, net) for channel, net, _ in truth]
    assert fulfilment == truth
    assert truth, "the estate has BOPIS and ship-from-store orders"


def test_series_performance_holds_the_same_sales(warehouse) -> None:
    totals = rows(
        warehouse,
        """
        select period_grain, sum(net_sales), sum(units),
            sum(case when series = 'UNMAPPED' then units else 0 end)
        from marts_candidate.mart_series_performance group by 1
        """,
    )
    truth_net, truth_units = rows(
        warehouse,
        "select sum(net), sum(case when status = 'COMPLETED' then units else 0 end) from truth",
    )[0]
    for _, net, units, unmapped in totals:
        assert (net, units) == (truth_net, truth_units)
        assert unmapped < units / 10, "the identity engine maps almost every product"


@pytest.mark.parametrize("kind", sorted(ALERTED_DEFECTS))
def test_every_injected_pattern_is_alerted(warehouse, kind) -> None:
    injected = {
        key for (key,) in rows(warehouse, f"select record_key from defects where kind = '{kind}'")
    }
    alerted = {
        key
        for (key,) in rows(
            warehouse,
            "select subject_key from marts_candidate.mart_alerts_for_review "
            f"where alert_type = '{ALERTED_DEFECTS[kind]}'",
        )
    }
    assert injected, f"the estate holds a {kind}"
    assert injected <= alerted


@pytest.mark.parametrize("kind", ["sales_spike", "night_order_burst"])
def test_natural_days_raise_no_spike_or_burst(warehouse, kind) -> None:
    # The generator keeps natural store-days under 220% of their baseline and
    # natural nights near 2% of a day's orders: only the injected ones alert.
    injected = {
        key for (key,) in rows(warehouse, f"select record_key from defects where kind = '{kind}'")
    }
    alerted = {
        key
        for (key,) in rows(
            warehouse,
            "select subject_key from marts_candidate.mart_alerts_for_review "
            f"where alert_type = '{ALERTED_DEFECTS[kind]}'",
        )
    }
    assert alerted == injected


def test_channel_stuffing_is_flagged_where_it_was_injected(warehouse) -> None:
    injected = {
        key
        for (key,) in rows(
            warehouse, "select record_key from defects where kind = 'channel_stuffing'"
        )
    }
    flagged = {
        f"{dealer}/{item}"
        for dealer, item in rows(
            warehouse,
            "select dealer_code, item_no from marts_candidate.mart_dealer_sell_through "
            "where is_channel_stuffing",
        )
    }
    assert injected and flagged == injected


def test_member_value_adds_up_to_the_members_sales(warehouse) -> None:
    value, members = rows(
        warehouse,
        "select sum(value_to_date), count(*) from marts_candidate.mart_member_value",
    )[0]
    facts = rows(
        warehouse,
        "select sum(net_amount), count(distinct member_key) from unified.fct_orders "
        "where member_key is not null",
    )[0]
    assert (value, members) == facts
    assert members > 100
    stages = dict(
        rows(
            warehouse,
            "select lifecycle_stage, count(*) from marts_candidate.mart_member_value group by 1",
        )
    )
    # Ten days of sales: nobody is dormant yet; one-time buyers are new.
    assert set(stages) == {"NEW", "ACTIVE"}
    repurchase = dict(
        rows(
            warehouse,
            "select is_omnichannel_buyer, bool_and(has_repurchased) "
            "from marts_candidate.mart_member_value group by 1",
        )
    )
    assert repurchase[True] is True, "buying in a store and online takes two purchases"


def test_coupon_redemption_accounts_for_every_coupon_issued(warehouse) -> None:
    issued = dict(
        rows(
            warehouse,
            "select issued_platform, count(*) from staging.stg_ecommerce__coupons group by 1",
        )
    )
    mart = rows(
        warehouse,
        "select issuing_channel, sum(coupons), min(coupons_issued), max(coupons_issued), "
        "sum(redemption_rate) from marts_candidate.mart_coupon_redemption group by 1",
    )
    assert {channel: total for channel, total, *_ in mart} == issued
    for _, total, low, high, rate in mart:
        assert low == high == total
        assert abs(rate - 1) < Decimal("0.001")
    crossed = rows(
        warehouse,
        "select sum(coupons) from marts_candidate.mart_coupon_redemption where is_cross_channel",
    )[0][0]
    assert crossed > 0, "online coupons are redeemed at tills"


def test_stock_reconciliation_lists_every_injected_discrepancy(warehouse) -> None:
    injected = {
        key
        for (key,) in rows(
            warehouse, "select record_key from defects where kind = 'stock_discrepancy'"
        )
    }
    listed = {
        f"{location}/{sku}/{day}"
        for location, sku, day in rows(
            warehouse,
            "select warehouse_code, wms_sku, snapshot_date from unified.fct_inventory_daily "
            "where is_discrepancy",
        )
    }
    assert injected and listed == injected
