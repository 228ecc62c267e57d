-- Sales by product series, per day, ISO week and month, channel and store:
-- one row per (period_grain, period_start, channel_code, store_code, series).
-- A line's series is its SKU's latest ERP version; lines whose product the
-- identity engine has not mapped to an item count under series 'UNMAPPED'.
-- Orders are not a metric here: one order can hold several series.
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

skus as (

    select * from {{ ref('dim_sku') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

periods as (

    select date_day, 'DAY' as period_grain, date_day as period_start from dates
    union all
    select date_day, 'WEEK' as period_grain, week_start_date as period_start from dates
    union all
    select date_day, 'MONTH' as period_grain, month_start_date as period_start from dates

),

latest_skus as (

    select
        sku_key,
        series,
        row_number() over (partition by sku_key order by valid_from desc) as version_rank
    from skus

),

aggregated as (

    select
        periods.period_grain,
        periods.period_start,
        order_lines.ordering_channel_code as channel_code,
        order_lines.store_code,
        coalesce(latest_skus.series, 'UNMAPPED') as series,
        sum(case when order_lines.line_type = 'SALE' then order_lines.qty else 0 end) as units,
        -sum(case when order_lines.line_type = 'RETURN' then order_lines.qty else 0 end) as returned_units,
        sum(case when order_lines.line_type = 'SALE' then order_lines.net_amount else 0 end) as sales_amount,
        -sum(case when order_lines.line_type = 'RETURN' then order_lines.net_amount else 0 end) as returns,
        sum(order_lines.net_amount) as net_sales
    from order_lines
    inner join periods
        on order_lines.event_local_date = periods.date_day
    left join latest_skus
        on order_lines.sku_key = latest_skus.sku_key
        and latest_skus.version_rank = 1
    group by
        periods.period_grain,
        periods.period_start,
        order_lines.ordering_channel_code,
        order_lines.store_code,
        coalesce(latest_skus.series, 'UNMAPPED')

),

final as (

    select
        {{ surrogate_key([
            'period_grain', 'period_start', 'channel_code', 'store_code', 'series'
        ]) }} as series_performance_key,
        period_grain,
        period_start,
        channel_code,
        store_code,
        series,
        cast(units as {{ dbt.type_bigint() }}) as units,
        cast(returned_units as {{ dbt.type_bigint() }}) as returned_units,
        cast(sales_amount as decimal(18, 2)) as sales_amount,
        cast(returns as decimal(18, 2)) as returns,
        cast(net_sales as decimal(18, 2)) as net_sales
    from aggregated

)

select * from final
