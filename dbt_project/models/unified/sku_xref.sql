-- Every product code a source system sends (till barcode as sent, wms_sku,
-- platform_sku) and the SKU key it resolves to, with how (matched_by) and how
-- sure (confidence). Unmapped codes keep a key of their own (is_mapped
-- false) until the ERP master learns them; they are never dropped.
with

xref as (

    select * from {{ ref('stg_identity__sku_xref') }}

),

final as (

    select
        source_system,
        product_code,
        sku_key,
        matched_by,
        confidence,
        matched_by <> 'unmapped' as is_mapped
    from xref

)

select * from final
