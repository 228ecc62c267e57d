{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['snapshot_date', 'warehouse_code', 'wms_sku'],
    )
}}
-- End-of-day stock per location and SKU, one row per (snapshot_date,
-- warehouse_code, wms_sku): the location's tier, on hand,
-- allocated, in transit, the day's outflow and days of cover, and the stock
-- reconciliation: yesterday's on hand plus the day's movements against
-- today's on hand, every difference kept (discrepancy_units).
--
-- Incremental: every snapshot date from the earliest one touched since the
-- last build is rebuilt, where touched means a snapshot landed for it or a
-- movement landed that falls in its demand window (var inventory_demand_days)
-- or its reconciliation. Each row keeps the newest landing of the rows it
-- was built from (_snapshot_loaded_at, _movements_loaded_at), so a full
-- refresh and any sequence of incremental builds end in the same rows.
-- The SKU key is not stored: it follows the identity engine's crosswalk
-- (sku_xref, source_system WMS, product_code = wms_sku) at query time.
with

{% if is_incremental() %}

rebuild_from as (

    select min(first_date) as first_date
    from (
        select min(snapshot_date) as first_date
        from {{ ref('stg_wms__snapshots') }}
        where {{ loaded_since_last_build('_loaded_at', '_snapshot_loaded_at') }}
        union all
        select min(moved_local_date) as first_date
        from {{ ref('stg_wms__movements') }}
        where {{ loaded_since_last_build('_loaded_at', '_movements_loaded_at') }}
    ) as touched

),

{% endif %}

snapshots as (

    select snapshots.*
    from {{ ref('stg_wms__snapshots') }} as snapshots
    {% if is_incremental() %}
    cross join rebuild_from
    -- the day before, for the opening balance
    where snapshots.snapshot_date >= cast({{ dbt.dateadd('day', -1, 'rebuild_from.first_date') }} as date)
    {% endif %}

),

movements as (

    select movements.*
    from {{ ref('stg_wms__movements') }} as movements
    {% if is_incremental() %}
    cross join rebuild_from
    where movements.moved_local_date
        > cast({{ dbt.dateadd('day', -var('inventory_demand_days'), 'rebuild_from.first_date') }} as date)
    {% endif %}

),

daily_movements as (

    select
        warehouse_code,
        wms_sku,
        moved_local_date,
        sum(qty) as net_movement_units,
        -- stock that left for a customer, a store or another location
        -sum(case when qty < 0 and movement_type <> 'ADJUST' then qty else 0 end) as outflow_units,
        max(_loaded_at) as _loaded_at
    from movements
    group by warehouse_code, wms_sku, moved_local_date

),

demand as (

    select
        snapshots.snapshot_date,
        snapshots.warehouse_code,
        snapshots.wms_sku,
        sum(daily_movements.outflow_units) as window_outflow_units,
        max(daily_movements._loaded_at) as _movements_loaded_at
    from snapshots
    inner join daily_movements
        on snapshots.warehouse_code = daily_movements.warehouse_code
        and snapshots.wms_sku = daily_movements.wms_sku
        and daily_movements.moved_local_date <= snapshots.snapshot_date
        and daily_movements.moved_local_date
            > cast({{ dbt.dateadd('day', -var('inventory_demand_days'), 'snapshots.snapshot_date') }} as date)
    group by snapshots.snapshot_date, snapshots.warehouse_code, snapshots.wms_sku

),

final as (

    select
        today.snapshot_date,
        today.warehouse_code,
        today.warehouse_tier,
        today.wms_sku,
        today.on_hand,
        today.allocated,
        today.in_transit,
        cast(today.on_hand - today.allocated as {{ dbt.type_int() }}) as available,
        cast(coalesce(moved.outflow_units, 0) as {{ dbt.type_int() }}) as outflow_units,
        cast(coalesce(demand.window_outflow_units, 0) * 1.0 / {{ var('inventory_demand_days') }} as decimal(18, 4))
            as average_daily_outflow,
        cast(case when demand.window_outflow_units > 0
            then today.on_hand / (demand.window_outflow_units * 1.0 / {{ var('inventory_demand_days') }})
        end as decimal(18, 2)) as days_of_cover,
        yesterday.on_hand as opening_on_hand,
        cast(coalesce(moved.net_movement_units, 0) as {{ dbt.type_int() }}) as net_movement_units,
        cast(yesterday.on_hand + coalesce(moved.net_movement_units, 0) as {{ dbt.type_int() }}) as expected_on_hand,
        cast(today.on_hand - yesterday.on_hand - coalesce(moved.net_movement_units, 0) as {{ dbt.type_int() }})
            as discrepancy_units,
        coalesce(
            abs(today.on_hand - yesterday.on_hand - coalesce(moved.net_movement_units, 0))
                > {{ var('stock_balance_tolerance_units') }},
            false
        ) as is_discrepancy,
        today._batch_id,
        today._origin,
        today._origin_line,
        greatest(today._loaded_at, coalesce(yesterday._loaded_at, today._loaded_at)) as _snapshot_loaded_at,
        demand._movements_loaded_at
    from snapshots as today
    left join snapshots as yesterday
        on today.warehouse_code = yesterday.warehouse_code
        and today.wms_sku = yesterday.wms_sku
        and yesterday.snapshot_date = cast({{ dbt.dateadd('day', -1, 'today.snapshot_date') }} as date)
    left join daily_movements as moved
        on today.warehouse_code = moved.warehouse_code
        and today.wms_sku = moved.wms_sku
        and today.snapshot_date = moved.moved_local_date
    left join demand
        on today.snapshot_date = demand.snapshot_date
        and today.warehouse_code = demand.warehouse_code
        and today.wms_sku = demand.wms_sku
    {% if is_incremental() %}
    cross join rebuild_from
    where today.snapshot_date >= rebuild_from.first_date
    {% endif %}

)

select * from final
