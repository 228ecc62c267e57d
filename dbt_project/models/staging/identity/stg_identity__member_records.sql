-- The identity engine's normalised evidence per customer record, as dbt
-- reads it: the input of dim_member's survivorship. Personal data.
with

source as (

    select * from {{ source('identity', 'member_records') }}

),

final as (

    select
        source_system,
        source_record_id,
        real_name,
        nickname,
        phone_e164,
        phone_mask,
        email,
        union_id,
        gender,
        birth_date,
        city,
        registered_at,
        first_seen_at,
        last_seen_at
    from source

)

select * from final
