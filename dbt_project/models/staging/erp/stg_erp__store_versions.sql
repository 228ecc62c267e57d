-- Every version of every ERP store as pulled, one row per
-- (store_code, updated_at): store type and region change over time, and
-- dim_store builds its history (SCD2) from these rows.
with

source as (

    select * from {{ source('erp', 'erp_store') }}

),

typed as (

    select
        {{ clean_text('store_code') }} as store_code,
        {{ clean_text('store_name') }} as store_name,
        upper({{ clean_text('store_type') }}) as store_type,
        {{ clean_text('dealer_code') }} as dealer_code,
        {{ clean_text('region') }} as region,
        {{ clean_text('province') }} as province,
        {{ clean_text('city') }} as city,
        {{ clean_text('county') }} as county,
        {{ cast_text('opened_on', 'date') }} as opened_on,
        {{ cast_text('closed_on', 'date') }} as closed_on,
        {{ clean_text('warehouse_code') }} as warehouse_code,
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
            partition by store_code, updated_at
            order by _loaded_at desc, _origin_line desc
        ) as copy_rank
    from typed

),

final as (

    select
        store_code,
        store_name,
        store_type,
        dealer_code,
        region,
        province,
        city,
        county,
        opened_on,
        closed_on,
        warehouse_code,
        updated_at,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where copy_rank = 1

)

select * from final
