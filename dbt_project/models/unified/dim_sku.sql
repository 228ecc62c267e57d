-- Products, series > model > item, with their history (SCD type 2): every
-- ERP version of an item is a row, valid from the time the ERP wrote it until
-- the next version (or the item's hard delete); the first version is valid
-- from the start of time so older sales still find it. sku_key is the ERP
-- item_no. Product codes the ERP does not know yet appear as one open row
-- each under the key the SKU crosswalk gave them (is_mapped false), so every
-- sale has a product row and the unmapped value stays visible.
with

versions as (

    select * from {{ ref('stg_erp__item_versions') }}

),

item_deletes as (

    select pk as item_no, deleted_at
    from {{ ref('stg_erp__deletes') }}
    where table_name = 'erp_item'

),

unmapped_keys as (

    select distinct sku_key
    from {{ ref('stg_identity__sku_xref') }}
    where matched_by = 'unmapped'

),

sequenced as (

    select
        *,
        row_number() over (partition by item_no order by updated_at) as version_number,
        lead(updated_at) over (partition by item_no order by updated_at) as next_updated_at
    from versions

),

closing_deletes as (

    -- a delete closes the version it falls in (re-creation starts a new one)
    select
        sequenced.item_no,
        sequenced.updated_at,
        min(item_deletes.deleted_at) as deleted_at
    from sequenced
    inner join item_deletes
        on sequenced.item_no = item_deletes.item_no
        and item_deletes.deleted_at >= sequenced.updated_at
        and (sequenced.next_updated_at is null or item_deletes.deleted_at < sequenced.next_updated_at)
    group by sequenced.item_no, sequenced.updated_at

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
        coalesce(closing_deletes.deleted_at, sequenced.next_updated_at) as valid_to,
        coalesce(closing_deletes.deleted_at, sequenced.next_updated_at) is null as is_current,
        closing_deletes.deleted_at is not null as is_deleted,
        sequenced.updated_at as erp_updated_at
    from sequenced
    left join closing_deletes
        on sequenced.item_no = closing_deletes.item_no
        and sequenced.updated_at = closing_deletes.updated_at

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
