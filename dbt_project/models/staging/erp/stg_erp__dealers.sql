-- ERP dealers as they stand now: the latest version per dealer, without
-- dealers hard-deleted in the ERP.
with

source as (

    select * from {{ source('erp', 'erp_dealer') }}

),

deletes as (

    {{ erp_hard_deletes('erp_dealer') }}

),

typed as (

    select
        {{ clean_text('dealer_code') }} as dealer_code,
        {{ clean_text('dealer_name') }} as dealer_name,
        upper({{ clean_text('tier') }}) as tier,
        {{ clean_text('registered_province') }} as registered_province,
        {{ clean_text('registered_city') }} as registered_city,
        {{ local_to_utc(clean_text('updated_at')) }} as updated_at,
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
            partition by dealer_code
            order by updated_at desc, _loaded_at desc, _origin_line desc
        ) as version_rank
    from typed

),

final as (

    select
        ranked.dealer_code,
        ranked.dealer_name,
        ranked.tier,
        ranked.registered_province,
        ranked.registered_city,
        ranked.updated_at,
        ranked._batch_id,
        ranked._origin,
        ranked._origin_line,
        ranked._loaded_at
    from ranked
    left join deletes
        on ranked.dealer_code = deletes.pk
    where
        ranked.version_rank = 1
        and (deletes.deleted_at is null or deletes.deleted_at < ranked.updated_at)

)

select * from final
