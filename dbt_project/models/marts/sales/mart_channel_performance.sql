-- Channel performance by day, ISO week and month: one row per (period_grain,
-- period_start, channel_code, store_code, region, province). Sales count on
-- the local date they happen (fct_order_lines.event_local_date), so a week or
-- month is the sum of its days. Metric definitions: _sales__docs.md.
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

channels as (

    select * from {{ ref('dim_channel') }}

),

stores as (

    select * from {{ ref('dim_store') }}

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

lines as (

    select
        order_lines.*,
        stores.region,
        stores.province,
        case
            when order_lines.ordering_channel_code <> 'STORE'
                and order_lines.fulfilment in ('BOPIS', 'SHIP_FROM_STORE') then 1
            else 0
        end as is_cross_channel
    from order_lines
    left join stores
        on order_lines.store_version_key = stores.store_version_key

),

aggregated as (

    select
        periods.period_grain,
        periods.period_start,
        lines.ordering_channel_code as channel_code,
        lines.store_code,
        lines.region,
        lines.province,
        count(distinct case when lines.line_type = 'SALE' then lines.order_key end) as orders,
        sum(case when lines.line_type = 'SALE' then lines.qty else 0 end) as units,
        -sum(case when lines.line_type = 'RETURN' then lines.qty else 0 end) as returned_units,
        sum(case when lines.line_type = 'SALE' then lines.gross_amount else 0 end) as gross_sales,
        sum(case when lines.line_type = 'SALE' then lines.discount_amount else 0 end) as discounts,
        sum(case when lines.line_type = 'SALE' then lines.net_amount else 0 end) as sales_amount,
        -sum(case when lines.line_type = 'RETURN' then lines.net_amount else 0 end) as returns,
        sum(lines.net_amount) as net_sales,
        sum(case when lines.line_type = 'SALE' and lines.is_cross_channel = 1 then lines.net_amount else 0 end)
            as cross_channel_sales
    from lines
    inner join periods
        on lines.event_local_date = periods.date_day
    group by
        periods.period_grain,
        periods.period_start,
        lines.ordering_channel_code,
        lines.store_code,
        lines.region,
        lines.province

),

with_period_totals as (

    select
        *,
        sum(net_sales) over (partition by period_grain, period_start) as period_net_sales
    from aggregated

),

final as (

    select
        {{ surrogate_key([
            'with_period_totals.period_grain', 'with_period_totals.period_start',
            'with_period_totals.channel_code', 'with_period_totals.store_code',
            'with_period_totals.region', 'with_period_totals.province'
        ]) }} as channel_performance_key,
        with_period_totals.period_grain,
        with_period_totals.period_start,
        channels.channel_key,
        with_period_totals.channel_code,
        channels.channel_group,
        with_period_totals.store_code,
        with_period_totals.region,
        with_period_totals.province,
        cast(with_period_totals.orders as {{ dbt.type_bigint() }}) as orders,
        cast(with_period_totals.units as {{ dbt.type_bigint() }}) as units,
        cast(with_period_totals.returned_units as {{ dbt.type_bigint() }}) as returned_units,
        cast(with_period_totals.gross_sales as decimal(18, 2)) as gross_sales,
        cast(with_period_totals.discounts as decimal(18, 2)) as discounts,
        cast(with_period_totals.sales_amount as decimal(18, 2)) as sales_amount,
        cast(with_period_totals.returns as decimal(18, 2)) as returns,
        cast(with_period_totals.net_sales as decimal(18, 2)) as net_sales,
        cast(with_period_totals.cross_channel_sales as decimal(18, 2)) as cross_channel_sales,
        cast(case when with_period_totals.orders > 0
            then with_period_totals.sales_amount / with_period_totals.orders end as decimal(18, 2))
            as average_order_value,
        cast(case when with_period_totals.sales_amount <> 0
            then with_period_totals.returns / with_period_totals.sales_amount end as decimal(18, 4))
            as return_rate,
        cast(case when with_period_totals.period_net_sales <> 0
            then with_period_totals.net_sales / with_period_totals.period_net_sales end as decimal(18, 4))
            as share_of_period_net_sales,
        cast(with_period_totals.period_net_sales as decimal(18, 2)) as period_net_sales
    from with_period_totals
    inner join channels
        on with_period_totals.channel_code = channels.channel_code

)

select * from final
