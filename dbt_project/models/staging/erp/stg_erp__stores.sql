-- The ERP store master as it stands now: the latest version per store,
-- without stores hard-deleted in the ERP.
with

versions as (

    select * from {{ ref('stg_erp__store_versions') }}

),

deletes as (

    {{ erp_hard_deletes('erp_store') }}

),

ranked as (

    select
        *,
        row_number() over (partition by store_code order by updated_at desc) as version_rank
    from versions

),

final as (

    select
        ranked.store_code,
        ranked.store_name,
        ranked.store_type,
        ranked.dealer_code,
        ranked.region,
        ranked.province,
        ranked.city,
        ranked.county,
        ranked.opened_on,
        ranked.closed_on,
        ranked.warehouse_code,
        ranked.updated_at,
        ranked._batch_id,
        ranked._origin,
        ranked._origin_line,
        ranked._loaded_at
    from ranked
    left join deletes
        on ranked.store_code = deletes.pk
    where
        ranked.version_rank = 1
        and (deletes.deleted_at is null or deletes.deleted_at < ranked.updated_at)

)

select * from final
