-- Coupon codes of each online order's latest version, one row per
-- (platform, order_id, coupon_code). A version that dropped a coupon drops
-- it here too, which is why this model reads every order's latest version
-- rather than only changed orders.
with

source as (

    select * from {{ source('ecommerce', 'ecom_order_coupons') }}

),

orders as (

    select * from {{ ref('stg_ecommerce__orders') }}

),

typed as (

    select
        upper({{ clean_text('platform') }}) as platform,
        {{ clean_text('order_id') }} as order_id,
        {{ iso_to_utc(clean_text('order_updated_at')) }} as order_updated_at,
        {{ clean_text('coupon_code') }} as coupon_code,
        {{ as_text('_batch_id') }} as _batch_id,
        {{ as_text('_origin') }} as _origin,
        _origin_line,
        _loaded_at
    from source

),

latest_coupons as (

    select
        typed.*,
        row_number() over (
            partition by typed.platform, typed.order_id, typed.coupon_code
            order by typed._loaded_at, typed._origin, typed._origin_line
        ) as copy_rank
    from typed
    inner join orders
        on typed.platform = orders.platform
        and typed.order_id = orders.order_id
        and typed.order_updated_at = orders.updated_at

),

final as (

    select
        platform,
        order_id,
        coupon_code,
        order_updated_at,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from latest_coupons
    where copy_rank = 1
        and coupon_code is not null

)

select * from final
