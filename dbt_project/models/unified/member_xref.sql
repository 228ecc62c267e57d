-- Every source customer record and the member key it was assigned, with the
-- history of its assignments (valid_from/valid_to; is_current for the one in
-- force) and why (matched_by, match_score). Facts resolve member keys here;
-- auditors trace any member back to its source records here.
with

xref as (

    select * from {{ ref('stg_identity__member_xref') }}

),

final as (

    select
        {{ surrogate_key(['source_system', 'source_record_id', 'valid_from']) }} as member_xref_key,
        source_system,
        source_record_id,
        member_key,
        matched_by,
        match_score,
        valid_from,
        valid_to,
        is_current
    from xref

)

select * from final
