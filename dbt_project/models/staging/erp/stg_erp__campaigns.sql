-- Marketing campaigns, one row per campaign. The ERP table has no
-- updated_at, so the copy landed last is the current one; a hard delete
-- removes a campaign unless it was pulled again after the delete (re-created).
with

source as (

    select * from {{ source('erp', 'erp_campaign') }}

),

deletes as (

    {{ erp_hard_deletes('erp_campaign') }}

),

typed as (

    select
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_text('name') }} as campaign_name,
        {{ clean_text('tag') }} as campaign_tag,
        upper({{ clean_text('channel') }}) as channel,
        {{ local_to_utc(clean_text('starts_at')) }} as starts_at,
        {{ local_to_utc(clean_text('ends_at')) }} as ends_at,
        {{ cast_text('marketing_cost', 'decimal(18, 2)') }} as marketing_cost,
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
            partition by campaign_id
            order by _loaded_at desc, _origin_line desc
        ) as version_rank
    from typed

),

final as (

    select
        ranked.campaign_id,
        ranked.campaign_name,
        ranked.campaign_tag,
        ranked.channel,
        ranked.starts_at,
        ranked.ends_at,
        ranked.marketing_cost,
        ranked._batch_id,
        ranked._origin,
        ranked._origin_line,
        ranked._loaded_at
    from ranked
    left join deletes
        on ranked.campaign_id = deletes.pk
    where
        ranked.version_rank = 1
        and (deletes.deleted_at is null or deletes.deleted_at < ranked._loaded_at)

)

select * from final
