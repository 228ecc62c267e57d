-- One row per calendar day, local (Asia/Shanghai) business dates. The
-- calendar covers whole years from the first to the last year with store or
-- online sales, so BI can show empty days and compare full years.
with

pos_days as (

    select min(business_date) as first_day, max(business_date) as last_day
    from {{ ref('stg_pos__deliveries') }}

),

online_days as (

    select min(created_local_date) as first_day, max(created_local_date) as last_day
    from {{ ref('stg_ecommerce__orders') }}

),

bounds as (

    select
        cast({{ dbt.date_trunc('year', 'coalesce(least(pos_days.first_day, online_days.first_day), pos_days.first_day, online_days.first_day, current_date)') }} as date) as first_day,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('year', 1, dbt.date_trunc('year', 'coalesce(greatest(pos_days.last_day, online_days.last_day), pos_days.last_day, online_days.last_day, current_date)'))) }} as date) as last_day
    from pos_days
    cross join online_days

),

day_numbers as (

    -- 2^13 days (22 years) is more than any estate's sales history
    {{ dbt.generate_series(8192) }}

),

days as (

    select cast({{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'bounds.first_day') }} as date) as date_day
    from day_numbers
    cross join bounds
    where {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'bounds.first_day') }} <= bounds.last_day

),

final as (

    select
        date_day,
        cast(extract(year from date_day) as {{ dbt.type_int() }}) * 10000
            + cast(extract(month from date_day) as {{ dbt.type_int() }}) * 100
            + cast(extract(day from date_day) as {{ dbt.type_int() }}) as date_key,
        cast(extract(year from date_day) as {{ dbt.type_int() }}) as calendar_year,
        cast(extract(quarter from date_day) as {{ dbt.type_int() }}) as calendar_quarter,
        cast(extract(month from date_day) as {{ dbt.type_int() }}) as calendar_month,
        cast(extract(day from date_day) as {{ dbt.type_int() }}) as day_of_month,
        {{ iso_day_of_week('date_day') }} as iso_day_of_week,
        {{ iso_week_of_year('date_day') }} as iso_week,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        {{ iso_day_of_week('date_day') }} in (6, 7) as is_weekend
    from days

)

select * from final
