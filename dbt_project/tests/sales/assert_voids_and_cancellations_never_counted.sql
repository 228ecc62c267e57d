-- VOID till transactions did not happen and cancelled online orders never
-- turned into sales: neither may add a line to the facts. Fails with every
-- fact line that belongs to one.
select order_lines.order_line_key, order_lines.order_id, 'VOID' as reason
from {{ ref('fct_order_lines') }} as order_lines
inner join {{ ref('int_pos_transactions_classified') }} as transactions
    on order_lines.source_system = 'POS'
    and order_lines.order_scope = transactions.store_code
    and order_lines.order_id = transactions.txn_id
where transactions.txn_class = 'VOID'

union all

select order_lines.order_line_key, order_lines.order_id, 'CANCELLED' as reason
from {{ ref('fct_order_lines') }} as order_lines
inner join {{ ref('stg_ecommerce__orders') }} as orders
    on order_lines.source_system = 'ECOMMERCE'
    and order_lines.order_scope = orders.platform
    and order_lines.order_id = orders.order_id
where orders.status = 'CANCELLED'
