-- Coupons issued, one row per coupon_code: the latest version by updated_at.
-- A coupon belongs to a campaign; it may be redeemed once, online or at a
-- till, which is how till coupons find their campaign.
with

source as (

    select * from {{ source('ecommerce', 'ecom_coupons') }}

),

typed as (

    select
        {{ clean_text('coupon_code') }} as coupon_code,
        {{ clean_text('campaign_id') }} as campaign_id,
        upper({{ clean_text('issued_platform') }}) as issued_platform,
        {{ clean_text('buyer_id') }} as buyer_id,
        {{ iso_to_utc(clean_text('issued_at')) }} as issued_at,
        {{ iso_to_utc(clean_text('expires_at')) }} as expires_at,
        {{ iso_to_utc(clean_text('updated_at')) }} as updated_at,
        {{ as_text('_batch_id') }} as _batch_id,
        {{ as_text('_origin') }} as _origin,
        _origin_line,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        row_number() over (
            partition by coupon_code
            order by updated_at desc, _loaded_at desc, _origin_line desc
        ) as version_rank
    from typed

),

final as (

    select
        coupon_code,
        campaign_id,
        issued_platform,
        buyer_id,
        issued_at,
        expires_at,
        updated_at,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
