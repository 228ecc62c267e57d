-- One row per member (a real person as the identity engine resolved them):
-- the member key, where the name survived from, record counts and dates, and
-- contacts masked only. The golden record in the clear (name, phone, e-mail,
-- union_id, gender, birth date, city) and its survivorship rules stay in
-- intermediate.int_member_golden_record, a restricted schema (docs/privacy.md).
with

golden as (

    select * from {{ ref('int_member_golden_record') }}

),

final as (

    select
        member_key,
        cast({{ mask_name('full_name') }} as varchar) as name_masked,
        full_name_source,
        phone_masked,
        cast({{ mask_email('email') }} as varchar) as email_masked,
        source_record_count,
        pos_card_count,
        mall_account_count,
        marketplace_account_count,
        is_omnichannel,
        first_registered_at,
        last_seen_at
    from golden

)

select * from final
