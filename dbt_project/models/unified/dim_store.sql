-- Stores with their history (SCD type 2): every ERP version of a store is a
-- row, valid from the time the ERP wrote it until the next version (or the
-- store's hard delete). The first version of each store is valid from the
-- start of time, so sales older than the first ERP pull still find the store.
-- Facts join the version in force at the time of the sale.
with

versions as (

    select * from {{ ref('stg_erp__store_versions') }}

),

store_deletes as (

    select pk as store_code, deleted_at
    from {{ ref('stg_erp__deletes') }}
    where table_name = 'erp_store'

),

sequenced as (

    select
        *,
        row_number() over (partition by store_code order by updated_at) as version_number,
        lead(updated_at) over (partition by store_code order by updated_at) as next_updated_at
    from versions

),

closing_deletes as (

    -- a delete closes the version it falls in (re-creation starts a new one)
    select
        sequenced.store_code,
        sequenced.updated_at,
        min(store_deletes.deleted_at) as deleted_at
    from sequenced
    inner join store_deletes
        on sequenced.store_code = store_deletes.store_code
        and store_deletes.deleted_at >= sequenced.updated_at
        and (sequenced.next_updated_at is null or store_deletes.deleted_at < sequenced.next_updated_at)
    group by sequenced.store_code, sequenced.updated_at

),

final as (

    select
        {{ surrogate_key(['sequenced.store_code', 'sequenced.updated_at']) }} as store_version_key,
        {{ surrogate_key(['sequenced.store_code']) }} as store_key,
        sequenced.store_code,
        sequenced.version_number,
        sequenced.store_name,
        sequenced.store_type,
        sequenced.dealer_code,
        sequenced.region,
        sequenced.province,
        sequenced.city,
        sequenced.county,
        sequenced.opened_on,
        sequenced.closed_on,
        sequenced.warehouse_code,
        case
            when sequenced.version_number = 1 then cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
            else sequenced.updated_at
        end as valid_from,
        coalesce(closing_deletes.deleted_at, sequenced.next_updated_at) as valid_to,
        coalesce(closing_deletes.deleted_at, sequenced.next_updated_at) is null as is_current,
        sequenced.next_updated_at is null as is_latest_version,
        closing_deletes.deleted_at is not null as is_deleted,
        sequenced.updated_at as erp_updated_at,
        sequenced._batch_id,
        sequenced._origin,
        sequenced._origin_line
    from sequenced
    left join closing_deletes
        on sequenced.store_code = closing_deletes.store_code
        and sequenced.updated_at = closing_deletes.updated_at

)

select * from final
