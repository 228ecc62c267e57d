-- Patterns a person should look at, one row per alert (alert_type,
-- subject_key). Four rules, every threshold a var from config/ronghe.yml
-- `business_rules`; definitions in _alerts__docs.md:
--   STORE_DAY_SPIKE       a store-day's store sales above spike ratio x the
--                         mean of the store's previous trading days
--   WEEK_OVER_WEEK_SWING  a channel's or store's net sales of a complete week
--                         moved more than the swing share against the week before
--   NIGHT_ORDER_BURST     a platform's orders placed in the night window
--                         (local time) far above its usual night
--   PRICE_PARITY_BREAK    an online list price away from the store price of
--                         the same item by more than the tolerance
with

orders as (

    select * from {{ ref('fct_orders') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

online_orders as (

    -- every order placed, paid or not: a burst of orders cancelled later is
    -- exactly what a reviewer wants to see
    select * from {{ ref('int_online_orders_fulfilled') }}

),

prices as (

    select * from {{ ref('stg_erp__prices') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

-- Store-day spikes ---------------------------------------------------------

store_days as (

    -- store sales made at the till; online pick-ups are online sales
    select
        store_code,
        order_local_date as sales_date,
        sum(sale_amount) as sales_amount,
        count(*) as transactions
    from orders
    where document_type = 'STORE_SALE'
    group by store_code, order_local_date

),

store_day_baselines as (

    select
        *,
        avg(sales_amount) over (
            partition by store_code order by sales_date
            rows between {{ var('spike_baseline_days') }} preceding and 1 preceding
        ) as baseline_amount,
        count(*) over (
            partition by store_code order by sales_date
            rows between {{ var('spike_baseline_days') }} preceding and 1 preceding
        ) as baseline_days
    from store_days

),

store_day_spikes as (

    select
        'STORE_DAY_SPIKE' as alert_type,
        {{ dbt.concat(['store_code', "'/'", 'cast(sales_date as ' ~ dbt.type_string() ~ ')']) }} as subject_key,
        sales_date as alert_date,
        'STORE' as channel_code,
        store_code,
        cast(null as {{ dbt.type_string() }}) as item_no,
        'store_sales_amount' as measure,
        sales_amount as observed_value,
        baseline_amount as baseline_value,
        sales_amount / baseline_amount as observed_ratio,
        {{ var('store_day_spike_ratio') }} as threshold
    from store_day_baselines
    where baseline_days >= {{ var('spike_min_baseline_days') }}
        and baseline_amount > 0
        and sales_amount > {{ var('store_day_spike_ratio') }} * baseline_amount

),

-- Week-over-week swings ----------------------------------------------------

sales_coverage as (

    select min(event_local_date) as first_day, max(event_local_date) as last_day
    from order_lines

),

complete_weeks as (

    -- only weeks the estate covers from Monday to Sunday compare fairly
    select distinct dates.week_start_date
    from dates
    cross join sales_coverage
    where dates.week_start_date >= sales_coverage.first_day
        and {{ dbt.dateadd('day', 6, 'dates.week_start_date') }} <= sales_coverage.last_day

),

weekly_sales as (

    select
        'CHANNEL' as scope,
        order_lines.ordering_channel_code as channel_code,
        cast(null as {{ dbt.type_string() }}) as store_code,
        dates.week_start_date,
        sum(order_lines.net_amount) as net_sales
    from order_lines
    inner join dates
        on order_lines.event_local_date = dates.date_day
    group by order_lines.ordering_channel_code, dates.week_start_date

    union all

    select
        'STORE' as scope,
        'STORE' as channel_code,
        order_lines.store_code,
        dates.week_start_date,
        sum(order_lines.net_amount) as net_sales
    from order_lines
    inner join dates
        on order_lines.event_local_date = dates.date_day
    where order_lines.ordering_channel_code = 'STORE'
    group by order_lines.store_code, dates.week_start_date

),

complete_weekly_sales as (

    select weekly_sales.*
    from weekly_sales
    inner join complete_weeks
        on weekly_sales.week_start_date = complete_weeks.week_start_date

),

week_over_week as (

    select
        this_week.scope,
        this_week.channel_code,
        this_week.store_code,
        this_week.week_start_date,
        this_week.net_sales,
        last_week.net_sales as last_week_net_sales
    from complete_weekly_sales as this_week
    inner join complete_weekly_sales as last_week
        on this_week.scope = last_week.scope
        and this_week.channel_code = last_week.channel_code
        and coalesce(this_week.store_code, '') = coalesce(last_week.store_code, '')
        and last_week.week_start_date = cast({{ dbt.dateadd('day', -7, 'this_week.week_start_date') }} as date)
    where last_week.net_sales > 0

),

week_over_week_swings as (

    select
        'WEEK_OVER_WEEK_SWING' as alert_type,
        {{ dbt.concat([
            'scope', "'/'", 'coalesce(store_code, channel_code)', "'/'",
            'cast(week_start_date as ' ~ dbt.type_string() ~ ')'
        ]) }} as subject_key,
        week_start_date as alert_date,
        channel_code,
        store_code,
        cast(null as {{ dbt.type_string() }}) as item_no,
        'weekly_net_sales' as measure,
        net_sales as observed_value,
        last_week_net_sales as baseline_value,
        net_sales / last_week_net_sales as observed_ratio,
        {{ var('week_over_week_swing') }} as threshold
    from week_over_week
    where abs(net_sales / last_week_net_sales - 1) > {{ var('week_over_week_swing') }}

),

-- Night-order bursts -------------------------------------------------------

placed_orders as (

    select
        platform,
        created_local_date,
        case
            when cast({{ utc_to_local('created_at') }} as time) >= cast('{{ var("night_order_start_local") }}' as time)
                and cast({{ utc_to_local('created_at') }} as time) < cast('{{ var("night_order_end_local") }}' as time)
            then 1 else 0
        end as is_night_order
    from online_orders

),

platform_nights as (

    select
        platform,
        created_local_date as night_date,
        sum(is_night_order) as night_orders
    from placed_orders
    group by platform, created_local_date

),

platform_night_baselines as (

    select
        *,
        avg(night_orders) over (
            partition by platform order by night_date
            rows between {{ var('spike_baseline_days') }} preceding and 1 preceding
        ) as baseline_night_orders
    from platform_nights

),

night_order_bursts as (

    select
        'NIGHT_ORDER_BURST' as alert_type,
        {{ dbt.concat(['platform', "'/'", 'cast(night_date as ' ~ dbt.type_string() ~ ')']) }} as subject_key,
        night_date as alert_date,
        platform as channel_code,
        cast(null as {{ dbt.type_string() }}) as store_code,
        cast(null as {{ dbt.type_string() }}) as item_no,
        'night_orders' as measure,
        night_orders as observed_value,
        baseline_night_orders as baseline_value,
        case when baseline_night_orders > 0 then night_orders / baseline_night_orders end as observed_ratio,
        {{ var('night_order_burst_ratio') }} as threshold
    from platform_night_baselines
    where night_orders >= {{ var('night_order_burst_min_orders') }}
        -- a platform's first night has no baseline: the minimum alone decides
        and (
            baseline_night_orders is null
            or night_orders > {{ var('night_order_burst_ratio') }} * baseline_night_orders
        )

),

-- Price-parity breaks ------------------------------------------------------

online_price_series as (

    select distinct item_no, channel
    from prices
    where channel <> 'STORE'

),

parity_checkpoints as (

    -- parity can break when either side's price changes
    select item_no, channel, valid_from as checked_on
    from prices
    where channel <> 'STORE'

    union

    select online_price_series.item_no, online_price_series.channel, store_prices.valid_from
    from online_price_series
    inner join prices as store_prices
        on online_price_series.item_no = store_prices.item_no
        and store_prices.channel = 'STORE'

),

prices_in_force as (

    select
        parity_checkpoints.item_no,
        parity_checkpoints.channel,
        parity_checkpoints.checked_on,
        prices.channel as price_channel,
        prices.list_price,
        row_number() over (
            partition by parity_checkpoints.item_no, parity_checkpoints.channel,
                parity_checkpoints.checked_on, prices.channel
            order by prices.valid_from desc
        ) as price_rank
    from parity_checkpoints
    inner join prices
        on parity_checkpoints.item_no = prices.item_no
        and prices.channel in ('STORE', parity_checkpoints.channel)
        and prices.valid_from <= parity_checkpoints.checked_on
        and (prices.valid_to is null or prices.valid_to >= parity_checkpoints.checked_on)

),

price_pairs as (

    select
        item_no,
        channel,
        checked_on,
        max(case when price_channel = 'STORE' then list_price end) as store_price,
        max(case when price_channel <> 'STORE' then list_price end) as channel_price
    from prices_in_force
    where price_rank = 1
    group by item_no, channel, checked_on

),

price_parity_breaks as (

    select
        'PRICE_PARITY_BREAK' as alert_type,
        {{ dbt.concat(['item_no', "'/'", 'channel', "'/'", 'cast(checked_on as ' ~ dbt.type_string() ~ ')']) }} as subject_key,
        checked_on as alert_date,
        channel as channel_code,
        cast(null as {{ dbt.type_string() }}) as store_code,
        item_no,
        'channel_list_price' as measure,
        channel_price as observed_value,
        store_price as baseline_value,
        channel_price / store_price as observed_ratio,
        {{ var('price_parity_tolerance') }} as threshold
    from price_pairs
    where store_price > 0
        and abs(channel_price / store_price - 1) > {{ var('price_parity_tolerance') }}

),

alerts as (

    select * from store_day_spikes
    union all
    select * from week_over_week_swings
    union all
    select * from night_order_bursts
    union all
    select * from price_parity_breaks

),

final as (

    select
        {{ surrogate_key(['alert_type', 'subject_key']) }} as alert_key,
        alert_type,
        subject_key,
        alert_date,
        channel_code,
        store_code,
        item_no,
        measure,
        cast(observed_value as decimal(18, 2)) as observed_value,
        cast(baseline_value as decimal(18, 2)) as baseline_value,
        cast(observed_ratio as decimal(18, 4)) as observed_ratio,
        cast(threshold as decimal(18, 4)) as threshold
    from alerts

)

select * from final
