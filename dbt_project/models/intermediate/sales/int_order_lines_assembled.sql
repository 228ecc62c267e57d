-- Every counted sales line of the business, store and online, in one shape,
-- one row per (source_system, order_scope, order_id, line_id, line_type).
-- This is where "every sale counted once" is decided:
--   * store sales: till SALE lines, except online pick-ups (BOPIS), whose
--     money was taken online and which are counted on the online order
--   * store returns: till RETURN lines (negative quantities), booked on the
--     day and at the store of the return, linked to the sale they reverse
--   * online sales: the latest version's lines of every paid, not cancelled
--     order, booked on the order's local date and ordering platform
--   * online returns: a RETURNED order's lines again, negated, booked when
--     the order turned RETURNED
--   * VOID till transactions and cancelled or unpaid orders never appear
-- `_pos_loaded_at`, `_ecommerce_loaded_at` and `_wms_loaded_at` are the newest
-- landing, per source, of any row the line depends on (its document, lines,
-- returned sale, pick-up, shipment): the fact's incremental watermarks. Each
-- source lands its batches one after another, so a watermark per source
-- never skips a batch that committed late; one shared across sources could.
with

pos_transactions as (

    select * from {{ ref('int_pos_transactions_classified') }}
    where txn_class in ('STORE_SALE', 'STORE_RETURN')

),

pos_lines as (

    select * from {{ ref('stg_pos__lines') }}

),

online_orders as (

    select * from {{ ref('int_online_orders_fulfilled') }}
    where sale_status = 'COUNTED'

),

online_items as (

    select * from {{ ref('stg_ecommerce__order_items') }}

),

order_coupons as (

    select
        platform,
        order_id,
        min(coupon_code) as coupon_code,
        max(_loaded_at) as _loaded_at
    from {{ ref('stg_ecommerce__order_coupons') }}
    group by platform, order_id

),

store_lines as (

    select
        'POS' as source_system,
        pos_transactions.store_code as order_scope,
        pos_transactions.txn_id as order_id,
        cast(pos_lines.line_no as {{ dbt.type_string() }}) as line_id,
        case when pos_transactions.txn_class = 'STORE_RETURN' then 'RETURN' else 'SALE' end as line_type,
        'STORE' as ordering_channel_code,
        cast(null as {{ dbt.type_string() }}) as platform,
        'IN_STORE' as fulfilment,
        pos_transactions.store_code,
        pos_transactions.store_code as fulfilling_location_code,
        pos_transactions.business_date as pos_business_date,
        pos_transactions.txn_at as event_at,
        pos_transactions.txn_at as ordered_at,
        cast(null as {{ dbt.type_timestamp() }}) as picked_up_at,
        cast(null as {{ dbt.type_string() }}) as pickup_store_code,
        cast(null as {{ dbt.type_string() }}) as pickup_txn_id,
        pos_transactions.orig_txn_id,
        pos_transactions.orig_store_code,
        pos_transactions.orig_ecom_order_id,
        pos_transactions.return_match,
        -- a return is attributed to campaigns as of the sale it reverses
        coalesce(pos_transactions.orig_txn_at, pos_transactions.txn_at) as campaign_reference_at,
        cast(null as {{ dbt.type_string() }}) as order_campaign_id,
        case when pos_transactions.member_card_no is not null then 'POS_MEMBER' end as member_source_system,
        pos_transactions.member_card_no as member_source_record_id,
        'POS_BARCODE' as product_source_system,
        pos_lines.barcode as product_code,
        pos_lines.qty,
        pos_lines.unit_price,
        pos_lines.discount_amount,
        pos_lines.coupon_code,
        pos_lines._batch_id,
        pos_lines._origin,
        pos_lines._origin_line,
        greatest(
            pos_transactions._loaded_at,
            pos_transactions.orig_loaded_at,
            pos_lines._loaded_at
        ) as _pos_loaded_at,
        cast(null as {{ dbt.type_timestamp() }}) as _ecommerce_loaded_at,
        cast(null as {{ dbt.type_timestamp() }}) as _wms_loaded_at
    from pos_transactions
    inner join pos_lines
        on pos_transactions.store_code = pos_lines.store_code
        and pos_transactions.txn_id = pos_lines.txn_id

),

online_sale_lines as (

    select
        'ECOMMERCE' as source_system,
        online_orders.platform as order_scope,
        online_orders.order_id,
        online_items.line_id,
        'SALE' as line_type,
        online_orders.platform as ordering_channel_code,
        online_orders.platform,
        online_orders.fulfilment,
        online_orders.store_code,
        online_orders.fulfilling_location_code,
        cast(null as date) as pos_business_date,
        online_orders.created_at as event_at,
        online_orders.created_at as ordered_at,
        online_orders.picked_up_at,
        online_orders.pickup_store_code,
        online_orders.pickup_txn_id,
        cast(null as {{ dbt.type_string() }}) as orig_txn_id,
        cast(null as {{ dbt.type_string() }}) as orig_store_code,
        cast(null as {{ dbt.type_string() }}) as orig_ecom_order_id,
        cast(null as {{ dbt.type_string() }}) as return_match,
        online_orders.created_at as campaign_reference_at,
        online_orders.campaign_id as order_campaign_id,
        online_orders.platform as member_source_system,
        online_orders.buyer_id as member_source_record_id,
        online_orders.platform as product_source_system,
        online_items.platform_sku as product_code,
        online_items.qty,
        online_items.unit_price,
        online_items.discount_amount,
        order_coupons.coupon_code,
        online_items._batch_id,
        online_items._origin,
        online_items._origin_line,
        online_orders.pickup_loaded_at as _pos_loaded_at,
        greatest(
            online_orders._last_loaded_at,
            online_items._loaded_at,
            order_coupons._loaded_at
        ) as _ecommerce_loaded_at,
        online_orders.shipment_loaded_at as _wms_loaded_at
    from online_orders
    inner join online_items
        on online_orders.platform = online_items.platform
        and online_orders.order_id = online_items.order_id
    left join order_coupons
        on online_orders.platform = order_coupons.platform
        and online_orders.order_id = order_coupons.order_id

),

online_return_lines as (

    -- a returned order gives its lines back, in full, when it turned RETURNED
    select
        online_sale_lines.source_system,
        online_sale_lines.order_scope,
        online_sale_lines.order_id,
        online_sale_lines.line_id,
        'RETURN' as line_type,
        online_sale_lines.ordering_channel_code,
        online_sale_lines.platform,
        online_sale_lines.fulfilment,
        online_sale_lines.store_code,
        online_sale_lines.fulfilling_location_code,
        online_sale_lines.pos_business_date,
        online_orders.returned_at as event_at,
        online_sale_lines.ordered_at,
        online_sale_lines.picked_up_at,
        online_sale_lines.pickup_store_code,
        online_sale_lines.pickup_txn_id,
        online_sale_lines.orig_txn_id,
        online_sale_lines.orig_store_code,
        online_sale_lines.orig_ecom_order_id,
        online_sale_lines.return_match,
        online_sale_lines.campaign_reference_at,
        online_sale_lines.order_campaign_id,
        online_sale_lines.member_source_system,
        online_sale_lines.member_source_record_id,
        online_sale_lines.product_source_system,
        online_sale_lines.product_code,
        -online_sale_lines.qty as qty,
        online_sale_lines.unit_price,
        -online_sale_lines.discount_amount as discount_amount,
        online_sale_lines.coupon_code,
        online_sale_lines._batch_id,
        online_sale_lines._origin,
        online_sale_lines._origin_line,
        online_sale_lines._pos_loaded_at,
        online_sale_lines._ecommerce_loaded_at,
        online_sale_lines._wms_loaded_at
    from online_sale_lines
    inner join online_orders
        on online_sale_lines.platform = online_orders.platform
        and online_sale_lines.order_id = online_orders.order_id
    where online_orders.status = 'RETURNED'

),

unioned as (

    select * from store_lines
    union all
    select * from online_sale_lines
    union all
    select * from online_return_lines

)

select * from unioned
