-- WMS item master, one row per wms_sku: the file is re-sent whole every day,
-- so the latest updated_at wins. item_no is often empty or stale in the WMS;
-- the SKU crosswalk decides what a wms_sku is.
with

source as (

    select * from {{ source('wms', 'wms_items') }}

),

typed as (

    select
        {{ clean_text('wms_sku') }} as wms_sku,
        {{ clean_text('barcode') }} as barcode,
        {{ digits_only('barcode') }} as barcode_digits,
        {{ clean_text('item_no') }} as item_no,
        {{ clean_text('description') }} as description,
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
            partition by wms_sku
            order by updated_at desc, _loaded_at desc, _origin desc, _origin_line desc
        ) as version_rank
    from typed

),

final as (

    select
        wms_sku,
        barcode,
        barcode_digits,
        item_no,
        description,
        updated_at,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
