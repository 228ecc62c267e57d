{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='movement_id',
    )
}}
-- Every stock movement the WMS booked, one row per movement_id, with the
-- SKU key from the identity engine's crosswalk and its local date.
-- Positive quantities come in (receipts, transfers in, returns), negative
-- ones go out (picks, shipments, sales, transfers out); ADJUST goes either
-- way. Incremental: movements staged since the last build, and movements
-- whose SKU the identity engine moved to another key.
with

movements as (

    select * from {{ ref('stg_wms__movements') }}

),

sku_xref as (

    select * from {{ ref('stg_identity__sku_xref') }}
    where source_system = 'WMS'

),

{% if is_incremental() %}

changed as (

    select movement_id
    from movements
    where {{ loaded_since_last_build() }}

    union

    select existing.movement_id
    from {{ this }} as existing
    left join sku_xref
        on existing.wms_sku = sku_xref.product_code
    where existing.sku_key is distinct from sku_xref.sku_key

),

selected as (

    select movements.*
    from movements
    inner join changed
        on movements.movement_id = changed.movement_id

),

{% else %}

selected as (

    select * from movements

),

{% endif %}

final as (

    select
        selected.movement_id,
        selected.moved_at,
        selected.moved_local_date,
        selected.warehouse_code,
        selected.wms_sku,
        sku_xref.sku_key,
        selected.qty,
        case when selected.qty >= 0 then 'IN' else 'OUT' end as direction,
        selected.movement_type,
        selected.ref_type,
        selected.ref_id,
        selected._batch_id,
        selected._origin,
        selected._origin_line,
        selected._loaded_at
    from selected
    left join sku_xref
        on selected.wms_sku = sku_xref.product_code

)

select * from final
