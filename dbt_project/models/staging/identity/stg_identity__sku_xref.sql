-- The identity engine's SKU crosswalk as dbt reads it: each product code as
-- a source system sends it (till barcode, wms_sku, platform_sku) and the
-- SKU key it resolves to.
with

source as (

    select * from {{ source('identity', 'sku_xref') }}

),

final as (

    select
        {{ as_text('source_system') }} as source_system,
        {{ as_text('product_code') }} as product_code,
        {{ as_text('sku_key') }} as sku_key,
        {{ as_text('matched_by') }} as matched_by,
        confidence
    from source

)

select * from final
