-- Every online order (latest version) with how it was fulfilled, one row per
-- (platform, order_id):
--   * whether it counts as a sale: paid at some point and not cancelled
--     (an order still CREATED was never paid; a cancelled one never happened)
--   * where it was fulfilled: the pick-up or shipping store for BOPIS and
--     SHIP_FROM_STORE, the shipping warehouse for DELIVERY
--   * for BOPIS, the till transaction that handed it over, linked through the
--     till's ecom_order_id (that till sale is not a store sale, see
--     int_pos_transactions_classified)
with

orders as (

    select * from {{ ref('stg_ecommerce__orders') }}

),

pickups as (

    select * from {{ ref('int_pos_transactions_classified') }}
    where txn_class = 'ONLINE_PICKUP'

),

shipments as (

    select * from {{ ref('stg_wms__shipments') }}

),

first_pickups as (

    select
        ecom_order_id,
        store_code as pickup_store_code,
        txn_id as pickup_txn_id,
        txn_at as pickup_txn_at,
        _loaded_at as pickup_loaded_at,
        row_number() over (partition by ecom_order_id order by txn_at, store_code, txn_id) as pickup_rank
    from pickups

),

first_shipments as (

    select
        ecom_order_id,
        warehouse_code as shipped_from_warehouse_code,
        shipped_at,
        delivered_at,
        _loaded_at as shipment_loaded_at,
        row_number() over (partition by ecom_order_id order by shipped_at, shipment_id) as shipment_rank
    from shipments

),

final as (

    select
        orders.platform,
        orders.order_id,
        orders.status,
        orders.fulfilment,
        orders.created_at,
        orders.created_local_date,
        orders.updated_at,
        orders.paid_at,
        orders.cancelled_at,
        orders.returned_at,
        orders.buyer_id,
        orders.campaign_id,
        orders.paid_amount,
        orders.shipping_fee,
        orders.store_code,
        orders.province,
        orders.city,
        case
            when orders.status = 'CANCELLED' then 'CANCELLED'
            when orders.paid_at is null then 'UNPAID'
            else 'COUNTED'
        end as sale_status,
        case
            when orders.fulfilment in ('BOPIS', 'SHIP_FROM_STORE') then orders.store_code
            else first_shipments.shipped_from_warehouse_code
        end as fulfilling_location_code,
        first_pickups.pickup_store_code,
        first_pickups.pickup_txn_id,
        coalesce(first_pickups.pickup_txn_at, orders.picked_up_at) as picked_up_at,
        first_shipments.shipped_at,
        first_shipments.delivered_at,
        orders._batch_id,
        orders._origin,
        orders._origin_line,
        orders._last_loaded_at,
        first_pickups.pickup_loaded_at,
        first_shipments.shipment_loaded_at
    from orders
    left join first_pickups
        on orders.order_id = first_pickups.ecom_order_id
        and first_pickups.pickup_rank = 1
    left join first_shipments
        on orders.order_id = first_shipments.ecom_order_id
        and first_shipments.shipment_rank = 1

)

select * from final
