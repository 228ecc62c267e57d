{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['store_code', 'business_date'],
        pre_hook="{{ delete_restated_store_days() }}",
    )
}}
-- POS transaction lines, one row per (store_code, txn_id, line_no): only the
-- highest complete delivery of each store-day, whole; a line a till retry
-- wrote twice is kept once. Barcodes stay as the till sent them (vendor B
-- drops leading zeros; the SKU crosswalk resolves them).
with

restated_store_days as (

    {{ pos_restated_store_days() }}

),

source as (

    select * from {{ source('pos', 'pos_lines') }}

),

current_rows as (

    select source.*
    from source
    inner join restated_store_days
        on source._store_code = restated_store_days.store_code
        and cast(source._business_date as date) = restated_store_days.business_date
        and source._delivery = restated_store_days.delivery

),

typed as (

    select
        {{ as_text('_store_code') }} as store_code,
        {{ clean_text('txn_id') }} as txn_id,
        {{ cast_text('line_no', dbt.type_int()) }} as line_no,
        cast(_business_date as date) as business_date,
        {{ clean_text('barcode') }} as barcode,
        {{ digits_only('barcode') }} as barcode_digits,
        {{ cast_text('qty', dbt.type_int()) }} as qty,
        {{ cast_text('unit_price', 'decimal(12, 2)') }} as unit_price,
        coalesce({{ cast_text('discount_amount', 'decimal(12, 2)') }}, 0) as discount_amount,
        {{ clean_text('coupon_code') }} as coupon_code,
        {{ as_text('_vendor') }} as pos_vendor,
        _delivery as delivery,
        {{ as_text('_batch_id') }} as _batch_id,
        {{ as_text('_origin') }} as _origin,
        _origin_line,
        _loaded_at
    from current_rows

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by store_code, txn_id, line_no
            order by _origin_line
        ) as copy_rank
    from typed

),

final as (

    select
        store_code,
        txn_id,
        line_no,
        business_date,
        barcode,
        barcode_digits,
        qty,
        unit_price,
        discount_amount,
        cast(qty * unit_price - discount_amount as decimal(12, 2)) as line_amount,
        coupon_code,
        pos_vendor,
        delivery,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from deduplicated
    where copy_rank = 1

)

select * from final
