{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['platform', 'order_id'],
    )
}}
-- Online orders as they stand now, one row per (platform, order_id): the
-- latest version is the truth. The version history adds when the order was
-- first paid, picked up, cancelled or returned. Incremental: an order with a
-- version landed since the last build is recomputed from all its versions,
-- so a late or out-of-order version lands correctly.
with

versions as (

    select * from {{ ref('stg_ecommerce__order_versions') }}

),

changed_orders as (

    select distinct platform, order_id
    from versions
    where {{ loaded_since_last_build(watermark_column='_last_loaded_at') }}

),

order_history as (

    select versions.*
    from versions
    inner join changed_orders
        on versions.platform = changed_orders.platform
        and versions.order_id = changed_orders.order_id

),

milestones as (

    select
        platform,
        order_id,
        count(*) as version_count,
        min(case when status in ('PAID', 'SHIPPED', 'DELIVERED', 'PICKED_UP', 'RETURNED')
            then updated_at end) as paid_at,
        min(case when status = 'PICKED_UP' then updated_at end) as picked_up_at,
        min(case when status = 'CANCELLED' then updated_at end) as cancelled_at,
        min(case when status = 'RETURNED' then updated_at end) as returned_at,
        max(_loaded_at) as _last_loaded_at
    from order_history
    group by platform, order_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by platform, order_id
            order by updated_at desc
        ) as version_rank
    from order_history

),

final as (

    select
        ranked.platform,
        ranked.order_id,
        ranked.updated_at,
        ranked.created_at,
        ranked.created_local_date,
        ranked.buyer_id,
        ranked.buyer_phone,
        ranked.buyer_email,
        ranked.buyer_name,
        ranked.union_id,
        ranked.status,
        ranked.fulfilment,
        ranked.store_code,
        ranked.province,
        ranked.city,
        ranked.campaign_id,
        ranked.paid_amount,
        ranked.shipping_fee,
        milestones.version_count,
        milestones.paid_at,
        milestones.picked_up_at,
        milestones.cancelled_at,
        milestones.returned_at,
        ranked._batch_id,
        ranked._origin,
        ranked._origin_line,
        ranked._loaded_at,
        milestones._last_loaded_at
    from ranked
    inner join milestones
        on ranked.platform = milestones.platform
        and ranked.order_id = milestones.order_id
    where ranked.version_rank = 1

)

select * from final
