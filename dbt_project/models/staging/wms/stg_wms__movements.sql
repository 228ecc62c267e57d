{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='movement_id',
    )
}}
-- Stock movements, one row per movement_id. An hour's file may be
-- re-delivered (`_2`) with the same movements and late ones added, and a
-- movement may arrive in a later hour's file: movement_id decides, and the
-- first copy landed is kept.
with

source as (

    select * from {{ source('wms', 'wms_movements') }}
    where {{ loaded_since_last_build() }}

),

typed as (

    select
        {{ clean_text('movement_id') }} as movement_id,
        {{ iso_to_utc(clean_text('moved_at')) }} as moved_at,
        {{ clean_text('warehouse_code') }} as warehouse_code,
        {{ clean_text('wms_sku') }} as wms_sku,
        {{ cast_text('qty', dbt.type_int()) }} as qty,
        upper({{ clean_text('movement_type') }}) as movement_type,
        upper({{ clean_text('ref_type') }}) as ref_type,
        {{ clean_text('ref_id') }} as ref_id,
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
            partition by movement_id
            order by _loaded_at, _origin, _origin_line
        ) as copy_rank
    from typed

),

final as (

    select
        movement_id,
        moved_at,
        {{ local_date('moved_at') }} as moved_local_date,
        warehouse_code,
        wms_sku,
        qty,
        movement_type,
        ref_type,
        ref_id,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where copy_rank = 1
    {%- if is_incremental() %}
        -- a movement already staged keeps its first copy
        and not exists (
            select 1 from {{ this }} as staged
            where staged.movement_id = ranked.movement_id
        )
    {%- endif %}

)

select * from final
