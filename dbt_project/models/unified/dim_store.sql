-- Stores with their history (SCD type 2): every ERP version of a store is a
-- row, valid from the time the ERP wrote it until the next version (or the
-- store's hard delete). The first version of each store is valid from the
-- start of time, so sales older than the first ERP pull still find the store.
-- Facts join the version in force at the time of the sale.
with

sequenced as (

    {{ erp_version_history('stg_erp__store_versions', 'store_code', 'erp_store') }}

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
        coalesce(sequenced.closing_deleted_at, sequenced.next_updated_at) as valid_to,
        coalesce(sequenced.closing_deleted_at, sequenced.next_updated_at) is null as is_current,
        sequenced.next_updated_at is null as is_latest_version,
        sequenced.closing_deleted_at is not null as is_deleted,
        sequenced.updated_at as erp_updated_at,
        sequenced._batch_id,
        sequenced._origin,
        sequenced._origin_line
    from sequenced

)

select * from final
