-- The current delivery of every POS store-day, one row per
-- (store_code, business_date). A re-sent drop (`_2`, `_3` ...) supersedes
-- the earlier deliveries of its store-day whole, so the highest complete
-- delivery landed is the current one, even when its files hold no rows
-- (a closed store's day). The other POS staging models keep only its rows.
with

source as (

    select * from {{ source('pos', 'pos_drops') }}

),

typed as (

    select
        {{ clean_text('store_code') }} as store_code,
        {{ cast_text('business_date', 'date') }} as business_date,
        cast(delivery as {{ dbt.type_int() }}) as delivery,
        upper({{ clean_text('vendor') }}) as pos_vendor,
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
            partition by store_code, business_date
            order by delivery desc, _loaded_at desc
        ) as delivery_rank,
        count(*) over (partition by store_code, business_date) as deliveries_landed
    from typed

),

final as (

    select
        store_code,
        business_date,
        delivery,
        pos_vendor,
        deliveries_landed,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
