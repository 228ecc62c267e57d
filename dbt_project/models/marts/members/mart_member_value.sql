-- Member value, one row per member_key with at least one counted sale:
-- RFM scores and segment, lifecycle stage, high-value flag, channels used
-- and value to date, all as of the warehouse's last sales date (as_of_date),
-- so a rebuild of the same data gives the same answer. Thresholds are vars
-- from config/ronghe.yml; definitions in _members__docs.md. Carries the
-- member key and the masked phone only, never a name or a full contact.
with

orders as (

    select * from {{ ref('fct_orders') }}
    where member_key is not null

),

members as (

    select * from {{ ref('dim_member') }}

),

as_of as (

    select max(event_local_date) as as_of_date
    from {{ ref('fct_order_lines') }}

),

purchases as (

    -- a purchase is a sales document with sale lines: a till sale or an online order
    select
        orders.member_key,
        orders.order_key,
        orders.order_local_date,
        orders.ordering_channel_code,
        case when orders.ordering_channel_code = 'STORE' then 'STORE' else 'ONLINE' end as channel_group,
        orders.sale_amount
    from orders
    where orders.document_type in ('STORE_SALE', 'ONLINE_ORDER')

),

member_purchases as (

    select
        purchases.member_key,
        min(purchases.order_local_date) as first_purchase_date,
        max(purchases.order_local_date) as last_purchase_date,
        count(*) as purchases,
        count(distinct purchases.order_local_date) as purchase_days,
        sum(case when purchases.order_local_date > cast({{ dbt.dateadd('day', -365, 'as_of.as_of_date') }} as date)
            then 1 else 0 end) as purchases_last_365_days,
        max(purchases.sale_amount) as largest_order_amount,
        count(distinct purchases.ordering_channel_code) as channels_used,
        max(case when purchases.channel_group = 'STORE' then 1 else 0 end) as bought_in_store,
        max(case when purchases.channel_group = 'ONLINE' then 1 else 0 end) as bought_online
    from purchases
    cross join as_of
    group by purchases.member_key

),

member_value as (

    -- value to date nets returns, wherever and whenever they happened
    select member_key, sum(net_amount) as value_to_date
    from orders
    group by member_key

),

profiled as (

    select
        member_purchases.*,
        member_value.value_to_date,
        as_of.as_of_date,
        {{ dbt.datediff('member_purchases.last_purchase_date', 'as_of.as_of_date', 'day') }} as recency_days
    from member_purchases
    inner join member_value
        on member_purchases.member_key = member_value.member_key
    cross join as_of

),

scored as (

    -- quintiles, 5 = best; ties broken by member_key so every engine agrees
    select
        *,
        ntile(5) over (order by recency_days desc, member_key) as recency_score,
        ntile(5) over (order by purchases, member_key) as frequency_score,
        ntile(5) over (order by value_to_date, member_key) as monetary_score
    from profiled

),

final as (

    select
        scored.member_key,
        members.phone_masked,
        members.is_omnichannel as is_omnichannel_member,
        scored.as_of_date,
        scored.first_purchase_date,
        scored.last_purchase_date,
        cast(scored.recency_days as {{ dbt.type_int() }}) as recency_days,
        cast(scored.purchases as {{ dbt.type_bigint() }}) as purchases,
        cast(scored.purchases_last_365_days as {{ dbt.type_bigint() }}) as purchases_last_365_days,
        cast(scored.largest_order_amount as decimal(18, 2)) as largest_order_amount,
        cast(scored.value_to_date as decimal(18, 2)) as value_to_date,
        cast(scored.channels_used as {{ dbt.type_int() }}) as channels_used,
        scored.bought_in_store = 1 and scored.bought_online = 1 as is_omnichannel_buyer,
        scored.purchases >= 2 as has_repurchased,
        cast(scored.recency_score as {{ dbt.type_int() }}) as recency_score,
        cast(scored.frequency_score as {{ dbt.type_int() }}) as frequency_score,
        cast(scored.monetary_score as {{ dbt.type_int() }}) as monetary_score,
        {{ dbt.concat([
            'cast(scored.recency_score as ' ~ dbt.type_string() ~ ')',
            'cast(scored.frequency_score as ' ~ dbt.type_string() ~ ')',
            'cast(scored.monetary_score as ' ~ dbt.type_string() ~ ')'
        ]) }} as rfm_code,
        case
            when scored.recency_score >= 4 and scored.frequency_score >= 4 and scored.monetary_score >= 4 then 'CHAMPION'
            when scored.recency_score >= 3 and scored.frequency_score >= 3 then 'LOYAL'
            when scored.recency_score >= 4 and scored.frequency_score <= 2 then 'PROMISING'
            when scored.recency_score <= 2 and scored.frequency_score >= 3 then 'AT_RISK'
            when scored.recency_score <= 2 then 'HIBERNATING'
            else 'NEEDS_ATTENTION'
        end as rfm_segment,
        case
            when scored.recency_days >= {{ var('churned_after_days') }} then 'CHURNED'
            when scored.recency_days >= {{ var('dormant_after_days') }} then 'DORMANT'
            when scored.purchases = 1 then 'NEW'
            else 'ACTIVE'
        end as lifecycle_stage,
        (
            scored.purchases_last_365_days >= {{ var('high_value_min_orders_per_year') }}
            or scored.largest_order_amount > {{ var('high_value_single_order_yuan') }}
        ) as is_high_value
    from scored
    left join members
        on scored.member_key = members.member_key

)

select * from final
