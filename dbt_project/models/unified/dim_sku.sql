-- Products, series > model > item, with their history (SCD type 2): every
-- ERP version of an item is a row, valid from the time the ERP wrote it until
-- the next version (or the item's hard delete); the first version is valid
-- from the start of time so older sales still find it. sku_key is the ERP
-- item_no. Product codes the ERP does not know yet appear as one open row
-- each under the key the SKU crosswalk gave them (is_mapped false), so every
-- sale has a product row and the unmapped value stays visible.
with

sequenced as (

    {{ erp_version_history('stg_erp__item_versions', 'item_no', 'erp_item') }}

),

unmapped_keys as (

    select distinct sku_key
    from {{ ref('stg_identity__sku_xref') }}
    where matched_by = 'unmapped'

),

item_versions as (

    select
        {{ surrogate_key(['sequenced.item_no', 'sequenced.updated_at']) }} as sku_version_key,
        sequenced.item_no as sku_key,
        sequenced.item_no,
        sequenced.version_number,
        sequenced.item_name,
        sequenced.series,
        sequenced.model,
        sequenced.category_l1,
        sequenced.category_l2,
        sequenced.brand,
        sequenced.barcode,
        sequenced.uom,
        sequenced.unit_cost,
        sequenced.status,
        true as is_mapped,
        case
            when sequenced.version_number = 1 then cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
            else sequenced.updated_at
        end as valid_from,
        coalesce(sequenced.closing_deleted_at, sequenced.next_updated_at) as valid_to,
        coalesce(sequenced.closing_deleted_at, sequenced.next_updated_at) is null as is_current,
        sequenced.closing_deleted_at is not null as is_deleted,
        sequenced.updated_at as erp_updated_at
    from sequenced

),

unmapped_products as (

    select
        {{ surrogate_key(['unmapped_keys.sku_key']) }} as sku_version_key,
        unmapped_keys.sku_key,
        cast(null as {{ dbt.type_string() }}) as item_no,
        1 as version_number,
        cast(null as {{ dbt.type_string() }}) as item_name,
        'UNMAPPED' as series,
        'UNMAPPED' as model,
        'UNMAPPED' as category_l1,
        'UNMAPPED' as category_l2,
        cast(null as {{ dbt.type_string() }}) as brand,
        cast(null as {{ dbt.type_string() }}) as barcode,
        cast(null as {{ dbt.type_string() }}) as uom,
        cast(null as decimal(12, 2)) as unit_cost,
        'UNMAPPED' as status,
        false as is_mapped,
        cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}) as valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as valid_to,
        true as is_current,
        false as is_deleted,
        cast(null as {{ dbt.type_timestamp() }}) as erp_updated_at
    from unmapped_keys

),

final as (

    select * from item_versions
    union all
    select * from unmapped_products

)

select * from final
