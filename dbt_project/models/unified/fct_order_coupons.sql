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

till_redemptions as (

    -- a till coupon belongs to the lines that carry it
    select
        order_key,
        coupon_code,
        source_system,
        order_scope,
        order_id,
        ordering_channel_code,
        min(event_at) as redeemed_at,
        min(event_local_date) as redeemed_local_date,
        sum(net_amount) as redeemed_sales
    from order_lines
    where source_system = 'POS'
        and line_type = 'SALE'
        and coupon_code is not null
    group by order_key, coupon_code, source_system, order_scope, order_id, ordering_channel_code

),

online_sales as (

    select
        order_key,
        source_system,
        order_scope,
        order_id,
        ordering_channel_code,
        min(event_at) as redeemed_at,
        min(event_local_date) as redeemed_local_date,
        sum(net_amount) as redeemed_sales
    from order_lines
    where source_system = 'ECOMMERCE'
        and line_type = 'SALE'
    group by order_key, source_system, order_scope, order_id, ordering_channel_code

),

online_redemptions as (

    -- an online coupon applies to the whole order
    select
        online_sales.order_key,
        order_coupons.coupon_code,
        online_sales.source_system,
        online_sales.order_scope,
        online_sales.order_id,
        online_sales.ordering_channel_code,
        online_sales.redeemed_at,
        online_sales.redeemed_local_date,
        online_sales.redeemed_sales
    from order_coupons
    inner join online_sales
        on order_coupons.platform = online_sales.order_scope
        and order_coupons.order_id = online_sales.order_id

),

redemptions as (

    select * from till_redemptions
    union all
    select * from online_redemptions

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
