-- A till pick-up (PREPAID_ONLINE with ecom_order_id) is never a store sale,
-- whether or not its order is found. When the id matches no online order (a
-- mistyped id, or an order not landed yet) the BOPIS order loses its pick-up
-- link: a warning for operators to follow up, with the till transaction.
{{ config(severity='warn') }}

select
    pickups.store_code,
    pickups.txn_id,
    pickups.business_date,
    pickups.ecom_order_id
from {{ ref('int_pos_transactions_classified') }} as pickups
left join {{ ref('stg_ecommerce__orders') }} as orders
    on pickups.ecom_order_id = orders.order_id
where pickups.txn_class = 'ONLINE_PICKUP'
    and orders.order_id is null
