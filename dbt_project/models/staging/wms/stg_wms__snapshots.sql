{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['snapshot_date', 'warehouse_code', 'wms_sku'],
    )
}}
-- End-of-day stock per location and SKU, one row per
-- (snapshot_date, warehouse_code, wms_sku); a snapshot landed again
-- replaces the earlier copy.
with

source as (

    select * from {{ source('wms', 'wms_snapshots') }}
    where {{ loaded_since_last_build() }}

),

typed as (

    select
        {{ cast_text('snapshot_date', 'date') }} as snapshot_date,
        {{ clean_text('warehouse_code') }} as warehouse_code,
        upper({{ clean_text('warehouse_tier') }}) as warehouse_tier,
        {{ clean_text('wms_sku') }} as wms_sku,
        {{ cast_text('on_hand', dbt.type_int()) }} as on_hand,
        {{ cast_text('allocated', dbt.type_int()) }} as allocated,
        {{ cast_text('in_transit', dbt.type_int()) }} as in_transit,
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
            partition by snapshot_date, warehouse_code, wms_sku
            order by _loaded_at desc, _origin desc, _origin_line desc
        ) as copy_rank
    from typed

),

final as (

    select
        snapshot_date,
        warehouse_code,
        warehouse_tier,
        wms_sku,
        on_hand,
        allocated,
        in_transit,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where copy_rank = 1

)

select * from final
