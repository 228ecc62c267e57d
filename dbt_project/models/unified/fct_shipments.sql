-- Online order shipments with their fulfilment lead times, one row per
-- shipment_id (its latest version): which order, from which warehouse, and
-- the hours from payment to shipping and from shipping to delivery. An
-- order may ship in several parcels; each is a row.
with

shipments as (

    select * from {{ ref('stg_wms__shipments') }}

),

online_orders as (

    select * from {{ ref('int_online_orders_fulfilled') }}

),

final as (

    select
        shipments.shipment_id,
        shipments.ecom_order_id,
        online_orders.platform,
        {{ surrogate_key(["'ECOMMERCE'", 'online_orders.platform', 'online_orders.order_id']) }} as order_key,
        online_orders.fulfilment,
        shipments.warehouse_code,
        shipments.carrier,
        shipments.status,
        online_orders.created_at as ordered_at,
        online_orders.paid_at,
        shipments.shipped_at,
        shipments.delivered_at,
        {{ local_date('shipments.shipped_at') }} as shipped_local_date,
        cast({{ seconds_between('online_orders.paid_at', 'shipments.shipped_at') }} / 3600.0 as decimal(18, 2))
            as hours_paid_to_shipped,
        cast({{ seconds_between('shipments.shipped_at', 'shipments.delivered_at') }} / 3600.0 as decimal(18, 2))
            as hours_shipped_to_delivered,
        cast({{ seconds_between('online_orders.created_at', 'shipments.delivered_at') }} / 3600.0 as decimal(18, 2))
            as hours_ordered_to_delivered,
        shipments._batch_id,
        shipments._origin,
        shipments._origin_line
    from shipments
    left join online_orders
        on shipments.ecom_order_id = online_orders.order_id

)

select * from final
