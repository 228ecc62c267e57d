-- Every customer and member record, one row per (source_system,
-- source_record_id) as CONTRACT.md section 6 names them: POS member cards
-- (including cards registered before the data we hold, seen only at the
-- till) and e-commerce buyer accounts (including buyers seen only on
-- orders). The identity step (ronghe/identity) matches these records into
-- members.
with

pos_members as (

    select * from {{ ref('stg_pos__members') }}

),

customers as (

    select * from {{ ref('stg_ecommerce__customers') }}

),

orders as (

    select * from {{ ref('stg_ecommerce__orders') }}

),

transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

member_cards as (

    select
        'POS_MEMBER' as source_system,
        member_card_no as source_record_id,
        gender,
        birth_date,
        registered_at,
        registered_store,
        registered_at as updated_at
    from pos_members

),

cards_seen_only_at_tills as (

    select
        'POS_MEMBER' as source_system,
        transactions.member_card_no as source_record_id,
        cast(null as {{ dbt.type_string() }}) as gender,
        cast(null as date) as birth_date,
        min(transactions.txn_at) as registered_at,
        cast(null as {{ dbt.type_string() }}) as registered_store,
        max(transactions.txn_at) as updated_at
    from transactions
    left join pos_members
        on transactions.member_card_no = pos_members.member_card_no
    where transactions.member_card_no is not null
        and pos_members.member_card_no is null
    group by transactions.member_card_no

),

buyer_accounts as (

    select
        platform as source_system,
        buyer_id as source_record_id,
        cast(null as {{ dbt.type_string() }}) as gender,
        cast(null as date) as birth_date,
        registered_at,
        cast(null as {{ dbt.type_string() }}) as registered_store,
        updated_at
    from customers
    where buyer_id is not null

),

buyers_seen_only_on_orders as (

    select
        orders.platform as source_system,
        orders.buyer_id as source_record_id,
        cast(null as {{ dbt.type_string() }}) as gender,
        cast(null as date) as birth_date,
        min(orders.created_at) as registered_at,
        cast(null as {{ dbt.type_string() }}) as registered_store,
        max(orders.updated_at) as updated_at
    from orders
    left join customers
        on orders.platform = customers.platform
        and orders.buyer_id = customers.buyer_id
    where orders.buyer_id is not null
        and customers.buyer_id is null
    group by orders.platform, orders.buyer_id

),

final as (

    select * from member_cards
    union all
    select * from cards_seen_only_at_tills
    union all
    select * from buyer_accounts
    union all
    select * from buyers_seen_only_on_orders

)

select * from final
