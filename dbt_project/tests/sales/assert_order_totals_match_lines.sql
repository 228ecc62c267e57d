-- The sources state their own totals: a till transaction's total_amount is
-- the sum of its lines, an online order's paid_amount the sum of its items
-- plus shipping. If the facts disagree, lines were lost or duplicated on the
-- way, or a source line was quarantined at landing (the load ledger names
-- it); either way the numbers BI sees do not reconcile with the source for
-- these documents. Warns with each document that differs, so an operator
-- sees it without one bad till line holding back every mart.
{{ config(severity='warn') }}

select
    order_key,
    source_system,
    order_scope,
    order_id,
    document_type,
    source_total_amount,
    sale_amount,
    returned_amount,
    shipping_fee
from {{ ref('fct_orders') }}
where
    (document_type = 'STORE_SALE' and source_total_amount <> sale_amount)
    -- a till return's total is negative, like its lines
    or (document_type = 'STORE_RETURN' and source_total_amount <> -returned_amount)
    or (document_type = 'ONLINE_ORDER' and source_total_amount <> sale_amount + coalesce(shipping_fee, 0))
