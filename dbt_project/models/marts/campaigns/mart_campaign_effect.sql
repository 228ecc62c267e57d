-- Campaign effect, one row per campaign: net sales per day in the channels
-- the campaign ran in during its window, against the same channels' net
-- sales per day on days without any campaign running there (the baseline
-- excludes every campaign period), the uplift over the window, and the
-- return on marketing cost. Definitions in _campaigns__docs.md.
with

campaigns as (

    select * from {{ ref('stg_erp__campaigns') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

channels as (

    select * from {{ ref('dim_channel') }}

),

sales_history as (

    select min(event_local_date) as first_day, max(event_local_date) as last_day
    from order_lines

),

channel_days as (

    -- every day of the sales history for every channel, quiet days included
    select dates.date_day, channels.channel_code
    from dates
    cross join channels
    cross join sales_history
    where dates.date_day between sales_history.first_day and sales_history.last_day

),

daily_sales as (

    select
        channel_days.date_day,
        channel_days.channel_code,
        coalesce(sum(order_lines.net_amount), 0) as net_sales
    from channel_days
    left join order_lines
        on channel_days.date_day = order_lines.event_local_date
        and channel_days.channel_code = order_lines.ordering_channel_code
    group by channel_days.date_day, channel_days.channel_code

),

campaign_windows as (

    select
        campaign_id,
        campaign_name,
        channel as campaign_channel,
        marketing_cost,
        {{ local_date('starts_at') }} as first_day,
        {{ local_date('ends_at') }} as last_day
    from campaigns

),

campaign_channel_days as (

    -- the channel-days each campaign covers
    select
        campaign_windows.campaign_id,
        daily_sales.date_day,
        daily_sales.channel_code,
        daily_sales.net_sales
    from campaign_windows
    inner join daily_sales
        on daily_sales.date_day between campaign_windows.first_day and campaign_windows.last_day
        and campaign_windows.campaign_channel in ('ALL', daily_sales.channel_code)

),

quiet_channel_days as (

    select daily_sales.*
    from daily_sales
    where not exists (
        select 1 from campaign_channel_days
        where campaign_channel_days.date_day = daily_sales.date_day
            and campaign_channel_days.channel_code = daily_sales.channel_code
    )

),

baselines as (

    select channel_code, avg(net_sales) as baseline_daily_net_sales, count(*) as baseline_days
    from quiet_channel_days
    group by channel_code

),

campaign_sales as (

    select
        campaign_channel_days.campaign_id,
        count(distinct campaign_channel_days.date_day) as campaign_days,
        sum(campaign_channel_days.net_sales) as window_net_sales,
        -- what the same channel-days would have sold at the baseline pace
        sum(baselines.baseline_daily_net_sales) as baseline_net_sales,
        min(baselines.baseline_days) as baseline_days
    from campaign_channel_days
    left join baselines
        on campaign_channel_days.channel_code = baselines.channel_code
    group by campaign_channel_days.campaign_id

),

attributed as (

    select campaign_id, sum(net_amount) as attributed_net_sales
    from order_lines
    where campaign_id is not null
    group by campaign_id

),

final as (

    select
        campaign_windows.campaign_id,
        campaign_windows.campaign_name,
        campaign_windows.campaign_channel,
        campaign_windows.first_day,
        campaign_windows.last_day,
        cast(coalesce(campaign_sales.campaign_days, 0) as {{ dbt.type_int() }}) as campaign_days_with_history,
        cast(campaign_windows.marketing_cost as decimal(18, 2)) as marketing_cost,
        cast(campaign_sales.window_net_sales as decimal(18, 2)) as window_net_sales,
        cast(campaign_sales.baseline_net_sales as decimal(18, 2)) as baseline_net_sales,
        cast(campaign_sales.baseline_days as {{ dbt.type_int() }}) as baseline_days,
        cast(campaign_sales.window_net_sales - campaign_sales.baseline_net_sales as decimal(18, 2)) as uplift_net_sales,
        cast(case when campaign_sales.baseline_net_sales > 0
            then campaign_sales.window_net_sales / campaign_sales.baseline_net_sales - 1 end as decimal(18, 4))
            as uplift_rate,
        cast(case when campaign_windows.marketing_cost > 0
            then (campaign_sales.window_net_sales - campaign_sales.baseline_net_sales)
                / campaign_windows.marketing_cost end as decimal(18, 4)) as return_on_marketing_cost,
        cast(coalesce(attributed.attributed_net_sales, 0) as decimal(18, 2)) as attributed_net_sales
    from campaign_windows
    left join campaign_sales
        on campaign_windows.campaign_id = campaign_sales.campaign_id
    left join attributed
        on campaign_windows.campaign_id = attributed.campaign_id

)

select * from final
