{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['store_code', 'business_date'],
        pre_hook="{{ delete_restated_store_days() }}",
    )
}}
-- POS transactions, one row per (store_code, txn_id): only the highest
-- complete delivery of each store-day, whole; till retries kept once; vendor
-- B's Chinese codes mapped to vendor A's; local till time as UTC plus the
-- local date. Incremental by store-day: a re-sent day replaces the old one.
with

restated_store_days as (

    {{ pos_restated_store_days() }}

),

source as (

    select * from {{ source('pos', 'pos_transactions') }}

),

current_rows as (

    -- keep only rows of each store-day's current delivery
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
        cast(_business_date as date) as business_date,
        {{ clean_text('till_no') }} as till_no,
        {{ clean_text('cashier_id') }} as cashier_id,
        {{ local_to_utc(clean_text('txn_time')) }} as txn_at,
        {{ clean_text('member_card_no') }} as member_card_no,
        {{ clean_text('member_phone') }} as member_phone,
        {{ digits_only('member_phone') }} as member_phone_digits,
        {{ pos_payment_method('payment_method') }} as payment_method,
        {{ cast_text('total_amount', 'decimal(12, 2)') }} as total_amount,
        {{ pos_txn_type('txn_type') }} as txn_type,
        {{ clean_text('orig_txn_id') }} as orig_txn_id,
        {{ clean_text('ecom_order_id') }} as ecom_order_id,
        {{ as_text('_vendor') }} as pos_vendor,
        _delivery as delivery,
        {{ as_text('_batch_id') }} as _batch_id,
        {{ as_text('_origin') }} as _origin,
        _origin_line,
        _loaded_at
    from current_rows
    -- vendor B closes transactions.csv with a summary row, not a transaction
    where {{ clean_text('txn_id') }} <> '合计'

),

deduplicated as (

    select
        *,
        -- a till retry writes the same transaction twice: keep the first
        row_number() over (
            partition by store_code, txn_id
            order by _origin_line
        ) as copy_rank
    from typed

),

final as (

    select
        store_code,
        txn_id,
        business_date,
        till_no,
        cashier_id,
        txn_at,
        {{ local_date('txn_at') }} as txn_local_date,
        member_card_no,
        member_phone,
        member_phone_digits,
        payment_method,
        total_amount,
        txn_type,
        orig_txn_id,
        ecom_order_id,
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
