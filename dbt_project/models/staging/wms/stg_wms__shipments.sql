-- Shipments of online orders, one row per shipment_id: a shipment is re-sent
-- whenever it changes (delivered_at stays null until delivery) and has no
-- updated_at, so the copy from the latest file (then the latest landed) wins.
with

source as (

    select * from {{ source('wms', 'wms_shipments') }}

),

typed as (

    select
        {{ clean_text('shipment_id') }} as shipment_id,
        {{ clean_text('ecom_order_id') }} as ecom_order_id,
        {{ clean_text('warehouse_code') }} as warehouse_code,
        {{ clean_text('carrier') }} as carrier,
        {{ clean_text('tracking_no') }} as tracking_no,
        {{ iso_to_utc(clean_text('shipped_at')) }} as shipped_at,
        {{ iso_to_utc(clean_text('delivered_at')) }} as delivered_at,
        upper({{ clean_text('status') }}) as status,
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
            partition by shipment_id
            -- shipment files are named by date, so the path orders versions
            -- even when an older file is landed late
            order by _origin desc, _loaded_at desc, _origin_line desc
        ) as version_rank
    from typed

),

final as (

    select
        shipment_id,
        ecom_order_id,
        warehouse_code,
        carrier,
        tracking_no,
        shipped_at,
        delivered_at,
        status,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
