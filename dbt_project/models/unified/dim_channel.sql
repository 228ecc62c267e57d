-- The channels an order can be placed in. STORE is every till (its store
-- type is an attribute of the store, see dim_store); each e-commerce platform
-- is its own channel. Codes match the ERP's price and campaign channels.
with

channels as (

    select 'STORE' as channel_code, 'Stores' as channel_name, 'STORE' as channel_group,
        cast(null as {{ dbt.type_string() }}) as platform, false as is_marketplace
    union all
    select 'MALL', 'Own online mall', 'ONLINE', 'MALL', false
    union all
    select 'TMALL', 'Tmall marketplace', 'ONLINE', 'TMALL', true
    union all
    select 'JD', 'JD marketplace', 'ONLINE', 'JD', true

),

final as (

    select
        {{ surrogate_key(['channel_code']) }} as channel_key,
        channel_code,
        channel_name,
        channel_group,
        platform,
        is_marketplace
    from channels

)

select * from final
