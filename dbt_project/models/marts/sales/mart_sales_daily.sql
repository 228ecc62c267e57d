-- Daily sales by ordering channel and store, what BI reads for channel and
-- store performance. One row per local business date, ordering channel,
-- store (the till's store; for online orders the pick-up or shipping store,
-- none for warehouse delivery), and the store's type and region as they
-- were that day. Metric definitions: _marts__docs.md.
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

daily as (

    select
        order_lines.event_local_date as sales_date,
        order_lines.ordering_channel_code,
        order_lines.store_code,
        stores.store_type,
        stores.region,
        count(distinct case when order_lines.line_type = 'SALE' then order_lines.order_key end) as orders,
        sum(case when order_lines.line_type = 'SALE' then order_lines.qty else 0 end) as units,
        -sum(case when order_lines.line_type = 'RETURN' then order_lines.qty else 0 end) as returned_units,
        sum(case when order_lines.line_type = 'SALE' then order_lines.gross_amount else 0 end) as gross_sales,
        sum(case when order_lines.line_type = 'SALE' then order_lines.discount_amount else 0 end) as discounts,
        -sum(case when order_lines.line_type = 'RETURN' then order_lines.net_amount else 0 end) as returns
    from order_lines
    left join stores
        on order_lines.store_version_key = stores.store_version_key
    group by
        order_lines.event_local_date,
        order_lines.ordering_channel_code,
        order_lines.store_code,
        stores.store_type,
        stores.region

),

final as (

    select
        {{ surrogate_key(['daily.sales_date', 'daily.ordering_channel_code', 'daily.store_code', 'daily.store_type', 'daily.region']) }} as sales_daily_key,
        daily.sales_date,
        channels.channel_key,
        daily.ordering_channel_code as channel_code,
        channels.channel_group,
        channels.platform,
        daily.store_code,
        daily.store_type,
        daily.region,
        cast(daily.orders as {{ dbt.type_bigint() }}) as orders,
        cast(daily.units as {{ dbt.type_bigint() }}) as units,
        cast(daily.returned_units as {{ dbt.type_bigint() }}) as returned_units,
        cast(daily.gross_sales as decimal(18, 2)) as gross_sales,
        cast(daily.discounts as decimal(18, 2)) as discounts,
        cast(daily.returns as decimal(18, 2)) as returns,
        cast(daily.gross_sales - daily.discounts - daily.returns as decimal(18, 2)) as net_sales
    from daily
    inner join channels
        on daily.ordering_channel_code = channels.channel_code

)

select * from final
