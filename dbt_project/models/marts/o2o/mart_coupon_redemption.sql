-- Coupons by the channel that issued them and the channel that redeemed
-- them, one row per (issuing_channel, redeeming_channel): redeeming_channel
-- NOT_REDEEMED holds the coupons never used, so each issuing channel's rows
-- add up to the coupons it issued. A redemption is a counted sale using the
-- coupon: a till sale line, or a paid, not cancelled online order.
with

coupons as (

    select * from {{ ref('stg_ecommerce__coupons') }}

),

redemptions as (

    select * from {{ ref('fct_order_coupons') }}

),

first_redemptions as (

    -- a coupon re-used (a defect to review elsewhere) counts where it was first used
    select
        coupon_code,
        redeeming_channel,
        row_number() over (partition by coupon_code order by redeemed_at, order_key) as redemption_rank
    from redemptions

),

redemption_sales as (

    select coupon_code, sum(redeemed_sales) as redeemed_sales
    from redemptions
    group by coupon_code

),

coupon_outcomes as (

    select
        coupons.coupon_code,
        coupons.issued_platform as issuing_channel,
        coalesce(first_redemptions.redeeming_channel, 'NOT_REDEEMED') as redeeming_channel,
        coalesce(redemption_sales.redeemed_sales, 0) as redeemed_sales
    from coupons
    left join first_redemptions
        on coupons.coupon_code = first_redemptions.coupon_code
        and first_redemptions.redemption_rank = 1
    left join redemption_sales
        on coupons.coupon_code = redemption_sales.coupon_code

),

aggregated as (

    select
        issuing_channel,
        redeeming_channel,
        count(*) as coupons,
        sum(redeemed_sales) as redeemed_sales
    from coupon_outcomes
    group by issuing_channel, redeeming_channel

),

with_issued as (

    select
        *,
        sum(coupons) over (partition by issuing_channel) as coupons_issued
    from aggregated

),

final as (

    select
        {{ surrogate_key(['issuing_channel', 'redeeming_channel']) }} as coupon_redemption_key,
        issuing_channel,
        redeeming_channel,
        redeeming_channel not in (issuing_channel, 'NOT_REDEEMED') as is_cross_channel,
        cast(coupons as {{ dbt.type_bigint() }}) as coupons,
        cast(coupons_issued as {{ dbt.type_bigint() }}) as coupons_issued,
        cast(coupons * 1.0 / coupons_issued as decimal(18, 4)) as redemption_rate,
        cast(redeemed_sales as decimal(18, 2)) as redeemed_sales
    from with_issued

)

select * from final
