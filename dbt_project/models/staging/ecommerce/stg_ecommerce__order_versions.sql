{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['platform', 'order_id', 'updated_at'],
    )
}}
-- Every version of every online order, one row per
-- (platform, order_id, updated_at). The API returns an order again each time
-- it changes, and overlapping pulls (updated_since is inclusive) land the
-- same version twice: it is kept once. Times are UTC.
with

source as (

    select * from {{ source('ecommerce', 'ecom_orders') }}
    where {{ loaded_since_last_build() }}

),

typed as (

    select
        upper({{ clean_text('platform') }}) as platform,
        {{ clean_text('order_id') }} as order_id,
        {{ iso_to_utc(clean_text('updated_at')) }} as updated_at,
        {{ iso_to_utc(clean_text('created_at')) }} as created_at,
        {{ clean_text('buyer_id') }} as buyer_id,
        {{ clean_text('buyer_phone') }} as buyer_phone,
        {{ clean_text('buyer_email') }} as buyer_email,
        {{ clean_text('buyer_name') }} as buyer_name,
        {{ clean_text('union_id') }} as union_id,
        upper({{ clean_text('status') }}) as status,
        upper({{ clean_text('fulfilment') }}) as fulfilment,
        {{ clean_text('store_code') }} as store_code,
        {{ clean_text('province') }} as province,
        {{ clean_text('city') }} as city,
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ cast_text('paid_amount', 'decimal(12, 2)') }} as paid_amount,
        coalesce({{ cast_text('shipping_fee', 'decimal(12, 2)') }}, 0) as shipping_fee,
        {{ as_text('_batch_id') }} as _batch_id,
        {{ as_text('_origin') }} as _origin,
        _origin_line,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        -- the first landed copy of a version is the one kept
        row_number() over (
            partition by platform, order_id, updated_at
            order by _loaded_at, _origin, _origin_line
        ) as copy_rank
    from typed

),

final as (

    select
        platform,
        order_id,
        updated_at,
        created_at,
        {{ local_date('created_at') }} as created_local_date,
        buyer_id,
        buyer_phone,
        buyer_email,
        buyer_name,
        union_id,
        status,
        fulfilment,
        store_code,
        province,
        city,
        campaign_id,
        paid_amount,
        shipping_fee,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where copy_rank = 1
    {%- if is_incremental() %}
        and not exists (
            select 1 from {{ this }} as staged
            where staged.platform = ranked.platform
                and staged.order_id = ranked.order_id
                and staged.updated_at = ranked.updated_at
        )
    {%- endif %}

)

select * from final
