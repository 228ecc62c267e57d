-- Platform listings, one row per (platform, platform_sku): the latest version
-- by updated_at. seller_sku is usually the ERP item_no but sometimes free
-- text; barcode may be missing. The SKU crosswalk decides what they mean.
with

source as (

    select * from {{ source('ecommerce', 'ecom_listings') }}

),

typed as (

    select
        upper({{ clean_text('platform') }}) as platform,
        {{ clean_text('platform_sku') }} as platform_sku,
        {{ clean_text('barcode') }} as barcode,
        {{ digits_only('barcode') }} as barcode_digits,
        {{ clean_text('seller_sku') }} as seller_sku,
        {{ clean_text('title') }} as title,
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
            partition by platform, platform_sku
            order by updated_at desc, _loaded_at desc, _origin_line desc
        ) as version_rank
    from typed

),

final as (

    select
        platform,
        platform_sku,
        barcode,
        barcode_digits,
        seller_sku,
        title,
        updated_at,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
