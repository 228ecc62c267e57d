-- Sell-in (goods the ERP shipped to a dealer) against sell-out (what the
-- dealer's stores sold to customers), one row per (dealer_code, item_no)
-- over the warehouse's history, with the channel-stuffing flag. Thresholds
-- are vars from config/ronghe.yml; definitions in _dealers__docs.md.
with

sell_in as (

    select * from {{ ref('stg_erp__sell_in') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

stores as (

    select * from {{ ref('dim_store') }}

),

sell_in_totals as (

    select
        dealer_code,
        item_no,
        count(*) as sell_in_documents,
        sum(qty) as sell_in_units,
        sum(amount) as sell_in_amount,
        min(shipped_on) as first_shipped_on,
        max(shipped_on) as last_shipped_on
    from sell_in
    group by dealer_code, item_no

),

sell_out_totals as (

    -- sold from a dealer's store while the dealer ran it (the store version
    -- in force at the sale): till sales net of returns, and online orders
    -- the store handed over or shipped
    select
        stores.dealer_code,
        order_lines.sku_key as item_no,
        sum(order_lines.qty) as sell_out_units,
        sum(order_lines.net_amount) as sell_out_amount
    from order_lines
    inner join stores
        on order_lines.store_version_key = stores.store_version_key
    where stores.dealer_code is not null
        and order_lines.sku_key is not null
    group by stores.dealer_code, order_lines.sku_key

),

combined as (

    select
        coalesce(sell_in_totals.dealer_code, sell_out_totals.dealer_code) as dealer_code,
        coalesce(sell_in_totals.item_no, sell_out_totals.item_no) as item_no,
        coalesce(sell_in_totals.sell_in_documents, 0) as sell_in_documents,
        coalesce(sell_in_totals.sell_in_units, 0) as sell_in_units,
        coalesce(sell_in_totals.sell_in_amount, 0) as sell_in_amount,
        sell_in_totals.first_shipped_on,
        sell_in_totals.last_shipped_on,
        coalesce(sell_out_totals.sell_out_units, 0) as sell_out_units,
        coalesce(sell_out_totals.sell_out_amount, 0) as sell_out_amount
    from sell_in_totals
    full outer join sell_out_totals
        on sell_in_totals.dealer_code = sell_out_totals.dealer_code
        and sell_in_totals.item_no = sell_out_totals.item_no

),

final as (

    select
        {{ surrogate_key(['dealer_code', 'item_no']) }} as dealer_item_key,
        dealer_code,
        item_no,
        cast(sell_in_documents as {{ dbt.type_bigint() }}) as sell_in_documents,
        cast(sell_in_units as {{ dbt.type_bigint() }}) as sell_in_units,
        cast(sell_in_amount as decimal(18, 2)) as sell_in_amount,
        first_shipped_on,
        last_shipped_on,
        cast(sell_out_units as {{ dbt.type_bigint() }}) as sell_out_units,
        cast(sell_out_amount as decimal(18, 2)) as sell_out_amount,
        cast(sell_in_units - sell_out_units as {{ dbt.type_bigint() }}) as units_into_dealer_stock,
        cast(case when sell_out_units > 0 then sell_in_units * 1.0 / sell_out_units end as decimal(18, 4))
            as sell_in_to_sell_out_ratio,
        (
            sell_in_units >= {{ var('channel_stuffing_min_units') }}
            and sell_in_units > {{ var('channel_stuffing_ratio') }}
                * case when sell_out_units > 0 then sell_out_units else 0 end
        ) as is_channel_stuffing
    from combined

)

select * from final
