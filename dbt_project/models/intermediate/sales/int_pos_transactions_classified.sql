-- Every POS transaction with what it means for sales, one row per
-- (store_code, txn_id):
--   STORE_SALE     a sale made at the till: counted as a store sale
--   ONLINE_PICKUP  the collection of an online order (SALE, PREPAID_ONLINE,
--                  ecom_order_id set): the money was taken online, so it
--                  belongs to the online order and is never a store sale
--   STORE_RETURN   a return: reverses the sale named by orig_txn_id
--   VOID           did not happen: never counted
-- A return's original sale is looked up by txn_id, in the same store first
-- (txn_id is unique per store) and otherwise in any store, since a customer
-- may return goods to another store.
with

transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

classified as (

    select
        *,
        case
            when txn_type = 'VOID' then 'VOID'
            when txn_type = 'RETURN' then 'STORE_RETURN'
            when txn_type = 'SALE'
                and payment_method = 'PREPAID_ONLINE'
                and ecom_order_id is not null then 'ONLINE_PICKUP'
            when txn_type = 'SALE' then 'STORE_SALE'
        end as txn_class
    from transactions

),

return_candidates as (

    select
        returns.store_code,
        returns.txn_id,
        sales.store_code as orig_store_code,
        sales.business_date as orig_business_date,
        sales.txn_at as orig_txn_at,
        sales.txn_class as orig_txn_class,
        sales.ecom_order_id as orig_ecom_order_id,
        sales._loaded_at as orig_loaded_at,
        row_number() over (
            partition by returns.store_code, returns.txn_id
            -- same store first, then the latest sale before the return
            order by
                case when sales.store_code = returns.store_code then 0 else 1 end,
                case when sales.txn_at <= returns.txn_at then 0 else 1 end,
                sales.txn_at desc,
                sales.store_code
        ) as candidate_rank,
        count(*) over (partition by returns.store_code, returns.txn_id) as candidates
    from classified as returns
    inner join classified as sales
        on sales.txn_id = returns.orig_txn_id
        and sales.txn_class in ('STORE_SALE', 'ONLINE_PICKUP')
    where returns.txn_class = 'STORE_RETURN'

),

matched_returns as (

    select * from return_candidates where candidate_rank = 1

),

final as (

    select
        classified.store_code,
        classified.txn_id,
        classified.business_date,
        classified.txn_at,
        classified.txn_local_date,
        classified.txn_type,
        classified.txn_class,
        classified.payment_method,
        classified.total_amount,
        classified.member_card_no,
        classified.member_phone,
        classified.ecom_order_id,
        classified.orig_txn_id,
        matched_returns.orig_store_code,
        matched_returns.orig_business_date,
        matched_returns.orig_txn_at,
        matched_returns.orig_txn_class,
        matched_returns.orig_ecom_order_id,
        matched_returns.orig_loaded_at,
        case
            when classified.txn_class <> 'STORE_RETURN' then null
            when matched_returns.txn_id is null then 'UNMATCHED'
            when matched_returns.orig_store_code = classified.store_code then 'SAME_STORE'
            when matched_returns.candidates = 1 then 'OTHER_STORE'
            else 'OTHER_STORE_AMBIGUOUS'
        end as return_match,
        classified.pos_vendor,
        classified._batch_id,
        classified._origin,
        classified._origin_line,
        classified._loaded_at
    from classified
    left join matched_returns
        on classified.store_code = matched_returns.store_code
        and classified.txn_id = matched_returns.txn_id

)

select * from final
