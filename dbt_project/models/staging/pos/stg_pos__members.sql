-- Store member registrations, one row per member card: rows of each
-- store-day's highest complete delivery only; a card seen on several days
-- keeps its latest registration. Phones stay as typed (the identity layer
-- normalises them); vendor B's 男/女 become M/F.
with

current_deliveries as (

    select * from {{ ref('stg_pos__deliveries') }}

),

source as (

    select * from {{ source('pos', 'pos_members') }}

),

current_rows as (

    select source.*
    from source
    inner join current_deliveries
        on source._store_code = current_deliveries.store_code
        and cast(source._business_date as date) = current_deliveries.business_date
        and source._delivery = current_deliveries.delivery

),

typed as (

    select
        {{ clean_text('member_card_no') }} as member_card_no,
        {{ clean_text('name') }} as member_name,
        {{ clean_text('phone') }} as phone,
        {{ digits_only('phone') }} as phone_digits,
        {{ pos_gender('gender') }} as gender,
        {{ cast_text('birth_date', 'date') }} as birth_date,
        coalesce({{ clean_text('registered_store') }}, {{ as_text('_store_code') }}) as registered_store,
        {{ local_to_utc(clean_text('registered_at')) }} as registered_at,
        {{ as_text('_store_code') }} as drop_store_code,
        cast(_business_date as date) as business_date,
        {{ as_text('_vendor') }} as pos_vendor,
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
            partition by member_card_no
            order by registered_at desc, business_date desc, _loaded_at desc, _origin_line
        ) as copy_rank
    from typed
    where member_card_no is not null

),

final as (

    select
        member_card_no,
        member_name,
        phone,
        phone_digits,
        gender,
        birth_date,
        registered_store,
        registered_at,
        {{ local_date('registered_at') }} as registered_local_date,
        drop_store_code,
        business_date,
        pos_vendor,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from deduplicated
    where copy_rank = 1

)

select * from final
