-- Platform customers, one row per (platform, buyer_id): the latest version by
-- updated_at. TMALL and JD phones arrive masked (138****8000) and names may
-- be nicknames; the identity layer weighs that evidence, staging keeps it.
with

source as (

    select * from {{ source('ecommerce', 'ecom_customers') }}

),

typed as (

    select
        upper({{ clean_text('platform') }}) as platform,
        {{ clean_text('buyer_id') }} as buyer_id,
        {{ clean_text('phone') }} as phone,
        {{ clean_text('email') }} as email,
        {{ clean_text('name') }} as customer_name,
        {{ clean_text('union_id') }} as union_id,
        {{ iso_to_utc(clean_text('registered_at')) }} as registered_at,
        {{ iso_to_utc(clean_text('updated_at')) }} as updated_at,
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
            partition by platform, buyer_id
            order by updated_at desc, _loaded_at desc, _origin_line desc
        ) as version_rank
    from typed

),

final as (

    select
        platform,
        buyer_id,
        phone,
        email,
        customer_name,
        union_id,
        registered_at,
        updated_at,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
