{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_key',
        pre_hook="{{ delete_changed_order_documents() }}",
    )
}}
-- Every counted sales line, store and online, one row per order_line_key:
-- sales and returns with their ordering channel, fulfilment and fulfilling
-- location, the store version in force, member and SKU keys from the
-- identity crosswalks, and the campaign the line is attributed to.
-- What counts (and what never does) is decided in int_order_lines_assembled.
--
-- Incremental by document (order_key): a document is rebuilt when any row it
-- depends on landed since the last build, when its store-day was re-sent or
-- its order changed (the pre-hook removes those first, so documents that
-- vanished or stopped counting go too), or when the identity engine moved
-- its member or SKU to another key.
with

assembled as (

    select * from {{ ref('int_order_lines_assembled') }}

),

stores as (

    select * from {{ ref('dim_store') }}

),

campaigns as (

    select * from {{ ref('stg_erp__campaigns') }}

),

coupons as (

    select * from {{ ref('stg_ecommerce__coupons') }}

),

member_xref as (

    select * from {{ ref('stg_identity__member_xref') }}
    where is_current

),

sku_xref as (

    select * from {{ ref('stg_identity__sku_xref') }}

),

pos_deliveries as (

    select * from {{ ref('stg_pos__deliveries') }}

),

online_orders as (

    select * from {{ ref('stg_ecommerce__orders') }}

),

{% if is_incremental() %}

changed_documents as (

    select source_system, order_scope, order_id
    from assembled
    where {{ landed_after_order_facts_watermarks() }}

    union

    -- store-days re-sent and orders changed: the pre-hook removed their lines
    select assembled.source_system, assembled.order_scope, assembled.order_id
    from assembled
    inner join pos_deliveries as restated
        on assembled.store_code = restated.store_code
        and assembled.pos_business_date = restated.business_date
    where assembled.source_system = 'POS'
        and restated._loaded_at > {{ order_facts_watermark('_pos_loaded_at') }}

    union

    select assembled.source_system, assembled.order_scope, assembled.order_id
    from assembled
    inner join online_orders as changed
        on assembled.platform = changed.platform
        and assembled.order_id = changed.order_id
    where assembled.source_system = 'ECOMMERCE'
        and changed._last_loaded_at > {{ order_facts_watermark('_ecommerce_loaded_at') }}

    union

    -- documents whose member or SKU the identity engine re-keyed
    select existing.source_system, existing.order_scope, existing.order_id
    from {{ this }} as existing
    left join member_xref
        on existing.member_source_system = member_xref.source_system
        and existing.member_source_record_id = member_xref.source_record_id
    left join sku_xref
        on existing.product_source_system = sku_xref.source_system
        and existing.product_code = sku_xref.product_code
    where existing.member_key is distinct from member_xref.member_key
        or existing.sku_key is distinct from sku_xref.sku_key

),

lines as (

    select assembled.*
    from assembled
    inner join changed_documents
        on assembled.source_system = changed_documents.source_system
        and assembled.order_scope = changed_documents.order_scope
        and assembled.order_id = changed_documents.order_id

),

{% else %}

lines as (

    select * from assembled

),

{% endif %}

documents as (

    -- campaign attribution works per document and reference time
    select distinct
        source_system,
        order_scope,
        order_id,
        ordering_channel_code,
        campaign_reference_at
    from lines

),

window_campaigns as (

    select
        documents.source_system,
        documents.order_scope,
        documents.order_id,
        campaigns.campaign_id,
        row_number() over (
            partition by documents.source_system, documents.order_scope, documents.order_id
            -- the most specific campaign first, then the one started last
            order by
                case when campaigns.channel = documents.ordering_channel_code then 0 else 1 end,
                campaigns.starts_at desc,
                campaigns.campaign_id
        ) as campaign_rank
    from documents
    inner join campaigns
        on campaigns.channel in ('ALL', documents.ordering_channel_code)
        and documents.campaign_reference_at >= campaigns.starts_at
        and documents.campaign_reference_at <= campaigns.ends_at

),

store_versions as (

    -- the store version in force when the line happened
    select
        lines.source_system,
        lines.order_scope,
        lines.order_id,
        lines.line_id,
        lines.line_type,
        stores.store_version_key,
        row_number() over (
            partition by lines.source_system, lines.order_scope, lines.order_id, lines.line_id, lines.line_type
            order by
                case when lines.event_at >= stores.valid_from
                    and (stores.valid_to is null or lines.event_at < stores.valid_to) then 0 else 1 end,
                -- a store deleted from the ERP keeps its last version
                stores.valid_from desc
        ) as version_rank
    from lines
    inner join stores
        on lines.store_code = stores.store_code

),

final as (

    select
        {{ surrogate_key(['lines.source_system', 'lines.order_scope', 'lines.order_id', 'lines.line_id', 'lines.line_type']) }} as order_line_key,
        {{ surrogate_key(['lines.source_system', 'lines.order_scope', 'lines.order_id']) }} as order_key,
        lines.source_system,
        lines.order_scope,
        lines.order_id,
        lines.line_id,
        lines.line_type,
        {{ surrogate_key(['lines.ordering_channel_code']) }} as channel_key,
        lines.ordering_channel_code,
        lines.platform,
        lines.fulfilment,
        lines.store_code,
        store_versions.store_version_key,
        lines.fulfilling_location_code,
        lines.pos_business_date,
        lines.event_at,
        {{ local_date('lines.event_at') }} as event_local_date,
        lines.ordered_at,
        {{ local_date('lines.ordered_at') }} as order_local_date,
        lines.picked_up_at,
        lines.pickup_store_code,
        lines.pickup_txn_id,
        lines.orig_txn_id,
        lines.orig_store_code,
        lines.orig_ecom_order_id,
        lines.return_match,
        lines.member_source_system,
        lines.member_source_record_id,
        member_xref.member_key,
        lines.product_source_system,
        lines.product_code,
        sku_xref.sku_key,
        lines.qty,
        lines.unit_price,
        cast(lines.qty * lines.unit_price as decimal(18, 2)) as gross_amount,
        cast(lines.discount_amount as decimal(18, 2)) as discount_amount,
        cast(lines.qty * lines.unit_price - lines.discount_amount as decimal(18, 2)) as net_amount,
        lines.coupon_code,
        coalesce(lines.order_campaign_id, coupons.campaign_id, window_campaigns.campaign_id) as campaign_id,
        case
            when lines.order_campaign_id is not null then 'ORDER'
            when coupons.campaign_id is not null then 'COUPON'
            when window_campaigns.campaign_id is not null then 'TIME_WINDOW'
        end as campaign_attribution,
        lines._batch_id,
        lines._origin,
        lines._origin_line,
        lines._pos_loaded_at,
        lines._ecommerce_loaded_at,
        lines._wms_loaded_at
    from lines
    left join store_versions
        on lines.source_system = store_versions.source_system
        and lines.order_scope = store_versions.order_scope
        and lines.order_id = store_versions.order_id
        and lines.line_id = store_versions.line_id
        and lines.line_type = store_versions.line_type
        and store_versions.version_rank = 1
    left join window_campaigns
        on lines.source_system = window_campaigns.source_system
        and lines.order_scope = window_campaigns.order_scope
        and lines.order_id = window_campaigns.order_id
        and window_campaigns.campaign_rank = 1
    left join coupons
        on lines.coupon_code = coupons.coupon_code
    left join member_xref
        on lines.member_source_system = member_xref.source_system
        and lines.member_source_record_id = member_xref.source_record_id
    left join sku_xref
        on lines.product_source_system = sku_xref.source_system
        and lines.product_code = sku_xref.product_code

)

select * from final
