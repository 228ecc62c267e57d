{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['platform', 'order_id'],
    )
}}
-- Items of each online order's latest version, one row per
-- (platform, order_id, line_id). Items of superseded versions are dropped.
-- Incremental by order: an order with item rows landed since the last build
-- gets all its lines replaced by those of its (possibly new) latest version.
with

source as (

    select * from {{ source('ecommerce', 'ecom_order_items') }}

),

orders as (

    select * from {{ ref('stg_ecommerce__orders') }}

),

changed_orders as (

    select distinct
        upper({{ clean_text('platform') }}) as platform,
        {{ clean_text('order_id') }} as order_id
    from source
    where {{ loaded_since_last_build() }}

),

latest_versions as (

    select orders.platform, orders.order_id, orders.updated_at
    from orders
    inner join changed_orders
        on orders.platform = changed_orders.platform
        and orders.order_id = changed_orders.order_id

),

typed as (

    select
        upper({{ clean_text('platform') }}) as platform,
        {{ clean_text('order_id') }} as order_id,
        {{ iso_to_utc(clean_text('order_updated_at')) }} as order_updated_at,
        {{ clean_text('line_id') }} as line_id,
        {{ clean_text('platform_sku') }} as platform_sku,
        {{ cast_text('qty', dbt.type_int()) }} as qty,
        {{ cast_text('unit_price', 'decimal(12, 2)') }} as unit_price,
        coalesce({{ cast_text('discount', 'decimal(12, 2)') }}, 0) as discount_amount,
        {{ as_text('_batch_id') }} as _batch_id,
        {{ as_text('_origin') }} as _origin,
        _origin_line,
        _loaded_at
    from source

),

latest_items as (

    select
        typed.*,
        row_number() over (
            partition by typed.platform, typed.order_id, typed.line_id
            order by typed._loaded_at, typed._origin, typed._origin_line
        ) as copy_rank
    from typed
    inner join latest_versions
        on typed.platform = latest_versions.platform
        and typed.order_id = latest_versions.order_id
        and typed.order_updated_at = latest_versions.updated_at

),

final as (

    select
        platform,
        order_id,
        line_id,
        order_updated_at,
        platform_sku,
        qty,
        unit_price,
        discount_amount,
        cast(qty * unit_price - discount_amount as decimal(12, 2)) as line_amount,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from latest_items
    where copy_rank = 1

)

select * from final
