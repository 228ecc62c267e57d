-- Every distinct piece of contact evidence a customer or member record was
-- seen with, and when: the name, phone, e-mail, union_id and city given at
-- registration, the phone typed at the till with a member card, the buyer
-- fields of online orders, and the phone given when collecting an online
-- order at a store, with the member card shown then (evidence_source
-- REGISTRATION, TILL, ORDER, PICKUP).
-- Values stay as typed: the identity step normalises them.
with

pos_members as (

    select * from {{ ref('stg_pos__members') }}

),

transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

customers as (

    select * from {{ ref('stg_ecommerce__customers') }}

),

orders as (

    select * from {{ ref('stg_ecommerce__orders') }}

),

stores as (

    select * from {{ ref('stg_erp__stores') }}

),

registrations as (

    select
        'POS_MEMBER' as source_system,
        pos_members.member_card_no as source_record_id,
        'REGISTRATION' as evidence_source,
        pos_members.member_name as name,
        pos_members.phone,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as union_id,
        stores.city,
        cast(null as {{ dbt.type_string() }}) as card_no,
        pos_members.registered_at as first_seen_at,
        pos_members.registered_at as last_seen_at
    from pos_members
    left join stores
        on pos_members.registered_store = stores.store_code

),

till_captures as (

    -- a member card used at the till, with the phone typed alongside it
    select
        'POS_MEMBER' as source_system,
        transactions.member_card_no as source_record_id,
        'TILL' as evidence_source,
        cast(null as {{ dbt.type_string() }}) as name,
        transactions.member_phone as phone,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as union_id,
        stores.city,
        cast(null as {{ dbt.type_string() }}) as card_no,
        min(transactions.txn_at) as first_seen_at,
        max(transactions.txn_at) as last_seen_at
    from transactions
    left join stores
        on transactions.store_code = stores.store_code
    where transactions.txn_type <> 'VOID'
        and transactions.member_card_no is not null
    group by transactions.member_card_no, transactions.member_phone, stores.city

),

accounts as (

    select
        platform as source_system,
        buyer_id as source_record_id,
        'REGISTRATION' as evidence_source,
        customer_name as name,
        phone,
        email,
        union_id,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as card_no,
        registered_at as first_seen_at,
        coalesce(updated_at, registered_at) as last_seen_at
    from customers
    where buyer_id is not null

),

order_buyers as (

    select
        platform as source_system,
        buyer_id as source_record_id,
        'ORDER' as evidence_source,
        buyer_name as name,
        buyer_phone as phone,
        buyer_email as email,
        union_id,
        city,
        cast(null as {{ dbt.type_string() }}) as card_no,
        min(created_at) as first_seen_at,
        max(created_at) as last_seen_at
    from orders
    where buyer_id is not null
    group by platform, buyer_id, buyer_name, buyer_phone, buyer_email, union_id, city

),

pickups as (

    -- the phone given and the member card shown at the till when an online
    -- order is collected; the identity step only believes the phone when it
    -- fits the buyer's own, and weighs the card as evidence
    select
        orders.platform as source_system,
        orders.buyer_id as source_record_id,
        'PICKUP' as evidence_source,
        cast(null as {{ dbt.type_string() }}) as name,
        transactions.member_phone as phone,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as union_id,
        stores.city,
        transactions.member_card_no as card_no,
        min(transactions.txn_at) as first_seen_at,
        max(transactions.txn_at) as last_seen_at
    from transactions
    inner join orders
        on transactions.ecom_order_id = orders.order_id
    left join stores
        on transactions.store_code = stores.store_code
    where (transactions.member_phone is not null or transactions.member_card_no is not null)
        and orders.buyer_id is not null
        and transactions.txn_type = 'SALE'
    group by
        orders.platform, orders.buyer_id, transactions.member_phone,
        transactions.member_card_no, stores.city

),

final as (

    select * from registrations
    union all
    select * from till_captures
    union all
    select * from accounts
    union all
    select * from order_buyers
    union all
    select * from pickups

)

select * from final
