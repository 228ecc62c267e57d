-- Every coupon redeemed on a counted sale, one row per (order_key,
-- coupon_code). fct_orders and fct_order_lines keep one code per online
-- order (the lowest, when its latest version carries several); this bridge
-- keeps them all, for the till and online alike.
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

order_coupons as (

    select * from {{ ref('stg_ecommerce__order_coupons') }}

),

coupons as (

    select * from {{ ref('stg_ecommerce__coupons') }}

),

sale_documents as (

    -- a till coupon belongs to the lines that carry it (one row per coupon);
    -- an online coupon to the whole order (one row per order)
    select
        order_key,
        case when source_system = 'POS' then coupon_code end as line_coupon_code,
        source_system,
        order_scope,
        order_id,
        ordering_channel_code,
        min(event_at) as redeemed_at,
        min(event_local_date) as redeemed_local_date,
        sum(net_amount) as redeemed_sales
    from order_lines
    where line_type = 'SALE'
        and (source_system = 'ECOMMERCE' or coupon_code is not null)
    group by
        order_key,
        case when source_system = 'POS' then coupon_code end,
        source_system,
        order_scope,
        order_id,
        ordering_channel_code

),

redemptions as (

    select
        order_key,
        line_coupon_code as coupon_code,
        source_system,
        order_scope,
        order_id,
        ordering_channel_code,
        redeemed_at,
        redeemed_local_date,
        redeemed_sales
    from sale_documents
    where source_system = 'POS'

    union all

    select
        sale_documents.order_key,
        order_coupons.coupon_code,
        sale_documents.source_system,
        sale_documents.order_scope,
        sale_documents.order_id,
        sale_documents.ordering_channel_code,
        sale_documents.redeemed_at,
        sale_documents.redeemed_local_date,
        sale_documents.redeemed_sales
    from order_coupons
    inner join sale_documents
        on order_coupons.platform = sale_documents.order_scope
        and order_coupons.order_id = sale_documents.order_id
        and sale_documents.source_system = 'ECOMMERCE'

),

final as (

    select
        {{ surrogate_key(['redemptions.order_key', 'redemptions.coupon_code']) }} as order_coupon_key,
        redemptions.order_key,
        redemptions.coupon_code,
        coupons.issued_platform as issuing_channel,
        coupons.campaign_id,
        redemptions.source_system,
        redemptions.order_scope,
        redemptions.order_id,
        redemptions.ordering_channel_code as redeeming_channel,
        redemptions.redeemed_at,
        redemptions.redeemed_local_date,
        cast(redemptions.redeemed_sales as decimal(18, 2)) as redeemed_sales
    from redemptions
    left join coupons
        on redemptions.coupon_code = coupons.coupon_code

)

select * from final
