-- Every distinct piece of contact evidence a customer or member record was
-- seen with, and when: the name, phone, e-mail, union_id and city given at
-- registration, the phone typed at the till with a member card, the buyer
-- fields of online orders, and the phone given when collecting an online
-- order at a store, with the member card shown then, and the member card a
-- buyer's coupon was redeemed with at a till (evidence_source REGISTRATION,
-- TILL, ORDER, PICKUP, COUPON).
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

lines as (

    select * from {{ ref('stg_pos__lines') }}

),

coupons as (

    select * from {{ ref('stg_ecommerce__coupons') }}

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

till_coupon_cards as (

    -- the member cards each coupon was redeemed with at a till; a coupon
    -- redeemed with several cards (re-used) says nothing about whose it is
    select
        lines.coupon_code,
        min(transactions.member_card_no) as card_no,
        min(transactions.txn_at) as first_seen_at,
        max(transactions.txn_at) as last_seen_at
    from lines
    inner join transactions
        on lines.store_code = transactions.store_code
        and lines.txn_id = transactions.txn_id
    where lines.coupon_code is not null
        and transactions.member_card_no is not null
        and transactions.txn_type = 'SALE'
    group by lines.coupon_code
    having count(distinct transactions.member_card_no) = 1

),

coupon_redemptions as (

    -- a coupon issued to an online buyer and redeemed at a till with a member
    -- card: evidence that the card is the buyer's (or a relative's, whom the
    -- identity step's conflicts keep apart); no phone or city is carried over
    select
        coupons.issued_platform as source_system,
        coupons.buyer_id as source_record_id,
        'COUPON' as evidence_source,
        cast(null as {{ dbt.type_string() }}) as name,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as union_id,
        cast(null as {{ dbt.type_string() }}) as city,
        till_coupon_cards.card_no,
        till_coupon_cards.first_seen_at,
        till_coupon_cards.last_seen_at
    from till_coupon_cards
    inner join coupons
        on till_coupon_cards.coupon_code = coupons.coupon_code
    where coupons.buyer_id is not null
        and coupons.issued_platform is not null

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
    union all
    select * from coupon_redemptions

)

select * from final
