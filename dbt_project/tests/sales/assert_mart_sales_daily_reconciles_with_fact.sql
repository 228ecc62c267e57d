-- mart_sales_daily is what BI reads; every counted line of fct_order_lines
-- must be in it exactly once (no line dropped by a join, none doubled).
-- Fails when the totals over all days differ.
with

fact as (

    select
        sum(case when line_type = 'SALE' then gross_amount else 0 end) as gross_sales,
        sum(case when line_type = 'SALE' then discount_amount else 0 end) as discounts,
        -sum(case when line_type = 'RETURN' then net_amount else 0 end) as returns,
        sum(net_amount) as net_sales
    from {{ ref('fct_order_lines') }}

),

mart as (

    select
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(returns) as returns,
        sum(net_sales) as net_sales
    from {{ ref('mart_sales_daily') }}

)

select fact.*, mart.net_sales as mart_net_sales
from fact
cross join mart
where coalesce(fact.gross_sales, 0) <> coalesce(mart.gross_sales, 0)
    or coalesce(fact.discounts, 0) <> coalesce(mart.discounts, 0)
    or coalesce(fact.returns, 0) <> coalesce(mart.returns, 0)
    or coalesce(fact.net_sales, 0) <> coalesce(mart.net_sales, 0)
