-- Product codes the SKU crosswalk could not map to an ERP item yet, with
-- the sales value at risk: the unmapped report operators work from.
with

source as (

    select * from {{ source('identity', 'unmapped_product_codes') }}

),

final as (

    select
        source_system,
        product_code,
        sku_key,
        normalised_code,
        sales_value,
        sales_lines,
        first_seen_at,
        last_seen_at
    from source

)

select * from final
