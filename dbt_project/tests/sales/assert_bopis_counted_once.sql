-- A BOPIS order is paid online and collected at a till, which records a
-- PREPAID_ONLINE sale carrying the order id. That money is the online
-- order's: if the till sale also reached the facts as a store sale, the
-- same goods would be counted twice. Fails with every till line of a
-- pick-up found in fct_order_lines.
select
    order_lines.order_line_key,
    order_lines.store_code,
    order_lines.order_id,
    pickups.ecom_order_id
from {{ ref('fct_order_lines') }} as order_lines
inner join {{ ref('int_pos_transactions_classified') }} as pickups
    on order_lines.source_system = 'POS'
    and order_lines.order_scope = pickups.store_code
    and order_lines.order_id = pickups.txn_id
where pickups.txn_class = 'ONLINE_PICKUP'
