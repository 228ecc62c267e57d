-- How online orders are fulfilled, one row per (order_date, platform,
-- fulfilment, store_code): warehouse delivery, BOPIS (collected in a store)
-- and ship-from-store, with their share of the platform's orders that day
-- and, for BOPIS, how long customers took to collect. Counted orders only
-- (paid, not cancelled; fct_orders). Definitions: _o2o__docs.md.
with

orders as (

    select * from {{ ref('fct_orders') }}
    where document_type = 'ONLINE_ORDER'

),

fulfilled as (

    select
        order_local_date as order_date,
        platform,
        fulfilment,
        store_code,
        count(*) as orders,
        sum(sale_amount) as sales_amount,
        sum(case when picked_up_at is not null then 1 else 0 end) as picked_up_orders,
        sum(case when picked_up_at is not null
            then {{ seconds_between('ordered_at', 'picked_up_at') }} end) as pickup_lead_seconds
    from orders
    group by order_local_date, platform, fulfilment, store_code

),

with_day_totals as (

    select
        *,
        sum(orders) over (partition by order_date, platform) as platform_day_orders
    from fulfilled

),

final as (

    select
        {{ surrogate_key(['order_date', 'platform', 'fulfilment', 'store_code']) }} as o2o_fulfilment_key,
        order_date,
        platform,
        fulfilment,
        store_code,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(platform_day_orders as {{ dbt.type_bigint() }}) as platform_day_orders,
        cast(orders * 1.0 / platform_day_orders as decimal(18, 4)) as share_of_platform_day_orders,
        cast(sales_amount as decimal(18, 2)) as sales_amount,
        cast(picked_up_orders as {{ dbt.type_bigint() }}) as picked_up_orders,
        cast(pickup_lead_seconds / 3600.0 as decimal(18, 2)) as pickup_lead_hours_total,
        cast(case when picked_up_orders > 0
            then pickup_lead_seconds / 3600.0 / picked_up_orders end as decimal(18, 2)) as average_pickup_lead_hours
    from with_day_totals

)

select * from final
