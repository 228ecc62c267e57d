-- The identity engine's member crosswalk as dbt reads it: every source
-- customer record's member key assignments, the current one flagged.
-- The identity engine owns this state; dbt never rebuilds it.
with

source as (

    select * from {{ source('identity', 'member_xref') }}

),

final as (

    select
        {{ as_text('source_system') }} as source_system,
        {{ as_text('source_record_id') }} as source_record_id,
        {{ as_text('member_key') }} as member_key,
        {{ as_text('matched_by') }} as matched_by,
        match_score,
        valid_from,
        valid_to,
        valid_to is null as is_current
    from source

)

select * from final
