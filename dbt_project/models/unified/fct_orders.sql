{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_key',
        pre_hook="{{ delete_orders_without_lines() }}",
        on_schema_change='append_new_columns',
    )
}}
-- Every counted sales document, one row per order_key: till sales, till
-- returns and online orders, with their totals from fct_order_lines and the
-- document's own header (till total, online status, paid amount, shipping).
-- An online order that was returned carries both its sale and its return.
--
-- Incremental by document (order_key), following fct_order_lines: a document
-- is rebuilt when any of its lines carries a landing newer than this table's
-- watermarks (the lines' watermarks cover the headers read here too: till
-- transactions, order versions, pick-ups, shipments), or when the identity
-- engine moved its member to another key. Documents that lost all their
-- lines are removed by the pre-hook. A warehouse built before a column
-- existed gets it empty (append_new_columns): empty watermarks rebuild every
-- document on the next run.
-- depends_on: {{ ref('stg_identity__member_xref') }}
with

all_order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

{% if is_incremental() %}

member_xref as (

    select * from {{ ref('stg_identity__member_xref') }}
    where is_current

),

changed_orders as (

    select order_key
    from all_order_lines
    where {{ landed_after_order_facts_watermarks() }}

    union

    -- documents whose member the identity engine re-keyed
    select existing.order_key
    from {{ this }} as existing
    left join member_xref
        on existing.member_source_system = member_xref.source_system
        and existing.member_source_record_id = member_xref.source_record_id
    where existing.member_key is distinct from member_xref.member_key

),

order_lines as (

    select all_order_lines.*
    from all_order_lines
    inner join changed_orders
        on all_order_lines.order_key = changed_orders.order_key

),

{% else %}

order_lines as (

    select * from all_order_lines

),

{% endif %}

pos_transactions as (

    select
        {{ surrogate_key(["'POS'", 'store_code', 'txn_id']) }} as order_key,
        *
    from {{ ref('int_pos_transactions_classified') }}

),

online_orders as (

    select
        {{ surrogate_key(["'ECOMMERCE'", 'platform', 'order_id']) }} as order_key,
        *
    from {{ ref('int_online_orders_fulfilled') }}

),

totals as (

    select
        order_key,
        cast(count(*) as {{ dbt.type_bigint() }}) as line_count,
        cast(sum(case when line_type = 'SALE' then qty else 0 end) as {{ dbt.type_bigint() }}) as units_sold,
        cast(-sum(case when line_type = 'RETURN' then qty else 0 end) as {{ dbt.type_bigint() }}) as units_returned,
        cast(sum(case when line_type = 'SALE' then gross_amount else 0 end) as decimal(18, 2)) as gross_amount,
        cast(sum(case when line_type = 'SALE' then discount_amount else 0 end) as decimal(18, 2)) as discount_amount,
        cast(sum(case when line_type = 'SALE' then net_amount else 0 end) as decimal(18, 2)) as sale_amount,
        cast(-sum(case when line_type = 'RETURN' then net_amount else 0 end) as decimal(18, 2)) as returned_amount,
        cast(sum(net_amount) as decimal(18, 2)) as net_amount,
        min(coupon_code) as coupon_code,
        min(campaign_id) as campaign_id,
        min(campaign_attribution) as campaign_attribution,
        max(_pos_loaded_at) as _pos_loaded_at,
        max(_ecommerce_loaded_at) as _ecommerce_loaded_at,
        max(_wms_loaded_at) as _wms_loaded_at
    from order_lines
    group by order_key

),

headers as (

    -- attributes every line of a document shares; the first line carries them
    select
        *,
        row_number() over (partition by order_key order by line_type desc, line_id) as line_rank
    from order_lines

),

final as (

    select
        headers.order_key,
        headers.source_system,
        headers.order_scope,
        headers.order_id,
        case
            when headers.source_system = 'ECOMMERCE' then 'ONLINE_ORDER'
            when pos_transactions.txn_class = 'STORE_RETURN' then 'STORE_RETURN'
            else 'STORE_SALE'
        end as document_type,
        headers.channel_key,
        headers.ordering_channel_code,
        headers.platform,
        headers.fulfilment,
        headers.store_code,
        headers.store_version_key,
        headers.fulfilling_location_code,
        headers.ordered_at,
        headers.order_local_date,
        coalesce(online_orders.status, pos_transactions.txn_type) as source_status,
        online_orders.paid_at,
        online_orders.returned_at,
        headers.picked_up_at,
        headers.pickup_store_code,
        headers.pickup_txn_id,
        headers.orig_txn_id,
        headers.orig_store_code,
        headers.member_source_system,
        headers.member_source_record_id,
        headers.member_key,
        pos_transactions.payment_method,
        totals.coupon_code,
        totals.campaign_id,
        totals.campaign_attribution,
        totals.line_count,
        totals.units_sold,
        totals.units_returned,
        totals.gross_amount,
        totals.discount_amount,
        totals.sale_amount,
        totals.returned_amount,
        totals.net_amount,
        cast(online_orders.shipping_fee as decimal(18, 2)) as shipping_fee,
        cast(coalesce(online_orders.paid_amount, pos_transactions.total_amount) as decimal(18, 2)) as source_total_amount,
        totals._pos_loaded_at,
        totals._ecommerce_loaded_at,
        totals._wms_loaded_at
    from headers
    inner join totals
        on headers.order_key = totals.order_key
    -- order_key is built from the same natural key in fct_order_lines
    left join pos_transactions
        on headers.order_key = pos_transactions.order_key
    left join online_orders
        on headers.order_key = online_orders.order_key
    where headers.line_rank = 1

)

select * from final
