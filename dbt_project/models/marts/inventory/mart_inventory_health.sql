-- Inventory health per ISO week, location and SKU: one row per
-- (week_start, warehouse_code, wms_sku). Turnover and days of inventory are
-- separate metrics; the stock-out rate counts SKU-location-days without
-- available stock; a slow mover sold at least slow_mover_shortfall below its
-- trailing expectation for slow_mover_weeks weeks in a row. Thresholds are
-- vars from config/ronghe.yml; definitions in _inventory__docs.md.
with

inventory as (

    select * from {{ ref('fct_inventory_daily') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

sku_xref as (

    select * from {{ ref('sku_xref') }}
    where source_system = 'WMS'

),

weekly as (

    select
        dates.week_start_date as week_start,
        inventory.warehouse_code,
        inventory.wms_sku,
        max(inventory.warehouse_tier) as warehouse_tier,
        count(*) as snapshot_days,
        sum(case when inventory.available <= 0 then 1 else 0 end) as stock_out_days,
        avg(inventory.on_hand * 1.0) as average_on_hand,
        sum(inventory.outflow_units) as outflow_units
    from inventory
    inner join dates
        on inventory.snapshot_date = dates.date_day
    group by dates.week_start_date, inventory.warehouse_code, inventory.wms_sku

),

expectations as (

    -- the pace of the trailing weeks, per day so a partial week compares fairly
    select
        *,
        outflow_units * 1.0 / snapshot_days as daily_outflow,
        avg(outflow_units * 1.0 / snapshot_days) over (
            partition by warehouse_code, wms_sku order by week_start
            rows between {{ (var('inventory_demand_days') / 7) | round(0, 'ceil') | int }} preceding and 1 preceding
        ) as expected_daily_outflow
    from weekly

),

flagged as (

    select
        *,
        case
            when expected_daily_outflow > 0
                and daily_outflow <= (1 - {{ var('slow_mover_shortfall') }}) * expected_daily_outflow then 1
            else 0
        end as is_below_expectation
    from expectations

),

runs as (

    select
        *,
        sum(is_below_expectation) over (
            partition by warehouse_code, wms_sku order by week_start
            rows between {{ var('slow_mover_weeks') - 1 }} preceding and current row
        ) as weeks_below_in_run
    from flagged

),

final as (

    select
        {{ surrogate_key(['runs.week_start', 'runs.warehouse_code', 'runs.wms_sku']) }} as inventory_health_key,
        runs.week_start,
        runs.warehouse_code,
        runs.warehouse_tier,
        runs.wms_sku,
        sku_xref.sku_key,
        cast(runs.snapshot_days as {{ dbt.type_int() }}) as snapshot_days,
        cast(runs.stock_out_days as {{ dbt.type_int() }}) as stock_out_days,
        cast(runs.stock_out_days * 1.0 / runs.snapshot_days as decimal(18, 4)) as stock_out_rate,
        cast(runs.average_on_hand as decimal(18, 2)) as average_on_hand,
        cast(runs.outflow_units as {{ dbt.type_bigint() }}) as outflow_units,
        cast(case when runs.average_on_hand > 0
            then runs.outflow_units / runs.average_on_hand end as decimal(18, 4)) as turnover_rate,
        cast(case when runs.outflow_units > 0
            then runs.average_on_hand / (runs.outflow_units * 1.0 / runs.snapshot_days) end as decimal(18, 2))
            as days_of_inventory,
        cast(runs.expected_daily_outflow as decimal(18, 4)) as expected_daily_outflow,
        runs.is_below_expectation = 1 as is_below_expectation,
        runs.weeks_below_in_run >= {{ var('slow_mover_weeks') }} as is_slow_mover
    from runs
    left join sku_xref
        on runs.wms_sku = sku_xref.product_code

)

select * from final
