-- The golden record of each member, in the clear: one row per real person as
-- the identity engine resolved them, built from all their source records by
-- these survivorship rules (docs/decisions/identity.md):
--   name            a real name (never a nickname) from the most trusted
--                   source: POS_MEMBER (registered in person), then MALL,
--                   TMALL, JD; within a source the latest registration
--   phone           the full phone seen most recently, any source
--   e-mail          the latest non-null, MALL first (the only source that
--                   verifies it), then the marketplaces, then POS
--   union_id        the latest non-null (MALL only)
--   gender, birth   the latest POS registration that has them
--   city            the city seen most recently
-- Ties fall to the smaller (source_system, source_record_id), so the record
-- is deterministic. The member_key is the identity engine's stable key.
-- Personal data: built with the unified layer but stored in restricted schema
-- `intermediate`; unified.dim_member exposes only its keys, counts and masked
-- contacts (docs/privacy.md).
with

xref as (

    select * from {{ ref('stg_identity__member_xref') }}
    where is_current

),

records as (

    select * from {{ ref('stg_identity__member_records') }}

),

candidates as (

    select
        xref.member_key,
        records.*,
        case records.source_system
            when 'POS_MEMBER' then 1
            when 'MALL' then 2
            when 'TMALL' then 3
            when 'JD' then 4
            else 5
        end as trust_rank,
        case records.source_system
            when 'MALL' then 1
            when 'TMALL' then 2
            when 'JD' then 3
            else 4
        end as email_rank
    from xref
    inner join records
        on xref.source_system = records.source_system
        and xref.source_record_id = records.source_record_id

),

name_ranked as (

    select
        member_key,
        real_name,
        source_system,
        row_number() over (
            partition by member_key
            order by trust_rank, registered_at desc, source_system, source_record_id
        ) as survivor_rank
    from candidates
    where real_name is not null

),

phone_ranked as (

    select
        member_key,
        phone_e164,
        phone_mask,
        row_number() over (
            partition by member_key
            order by last_seen_at desc, trust_rank, source_system, source_record_id
        ) as survivor_rank
    from candidates
    where phone_e164 is not null

),

mask_ranked as (

    select
        member_key,
        phone_mask,
        row_number() over (
            partition by member_key
            order by last_seen_at desc, trust_rank, source_system, source_record_id
        ) as survivor_rank
    from candidates
    where phone_mask is not null

),

email_ranked as (

    select
        member_key,
        email,
        row_number() over (
            partition by member_key
            order by email_rank, last_seen_at desc, source_system, source_record_id
        ) as survivor_rank
    from candidates
    where email is not null

),

union_id_ranked as (

    select
        member_key,
        union_id,
        row_number() over (
            partition by member_key
            order by last_seen_at desc, source_system, source_record_id
        ) as survivor_rank
    from candidates
    where union_id is not null

),

demographics_ranked as (

    select
        member_key,
        gender,
        birth_date,
        row_number() over (
            partition by member_key
            order by registered_at desc, source_system, source_record_id
        ) as survivor_rank
    from candidates
    where source_system = 'POS_MEMBER'
        and (gender is not null or birth_date is not null)

),

city_ranked as (

    select
        member_key,
        city,
        row_number() over (
            partition by member_key
            order by last_seen_at desc, trust_rank, source_system, source_record_id
        ) as survivor_rank
    from candidates
    where city is not null

),

members as (

    select
        member_key,
        count(*) as source_record_count,
        count(case when source_system = 'POS_MEMBER' then 1 end) as pos_card_count,
        count(case when source_system = 'MALL' then 1 end) as mall_account_count,
        count(case when source_system in ('TMALL', 'JD') then 1 end) as marketplace_account_count,
        min(registered_at) as first_registered_at,
        max(last_seen_at) as last_seen_at
    from candidates
    group by member_key

),

final as (

    select
        members.member_key,
        name_ranked.real_name as full_name,
        name_ranked.source_system as full_name_source,
        phone_ranked.phone_e164,
        coalesce(phone_ranked.phone_mask, mask_ranked.phone_mask) as phone_masked,
        email_ranked.email,
        union_id_ranked.union_id,
        demographics_ranked.gender,
        demographics_ranked.birth_date,
        city_ranked.city,
        members.source_record_count,
        members.pos_card_count,
        members.mall_account_count,
        members.marketplace_account_count,
        members.pos_card_count > 0
            and (members.mall_account_count + members.marketplace_account_count) > 0
            as is_omnichannel,
        members.first_registered_at,
        members.last_seen_at
    from members
    left join name_ranked
        on members.member_key = name_ranked.member_key
        and name_ranked.survivor_rank = 1
    left join phone_ranked
        on members.member_key = phone_ranked.member_key
        and phone_ranked.survivor_rank = 1
    left join mask_ranked
        on members.member_key = mask_ranked.member_key
        and mask_ranked.survivor_rank = 1
    left join email_ranked
        on members.member_key = email_ranked.member_key
        and email_ranked.survivor_rank = 1
    left join union_id_ranked
        on members.member_key = union_id_ranked.member_key
        and union_id_ranked.survivor_rank = 1
    left join demographics_ranked
        on members.member_key = demographics_ranked.member_key
        and demographics_ranked.survivor_rank = 1
    left join city_ranked
        on members.member_key = city_ranked.member_key
        and city_ranked.survivor_rank = 1

)

select * from final
