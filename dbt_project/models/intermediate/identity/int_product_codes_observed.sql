-- Every product code a source system sends, one row per (source_system,
-- product_code) as CONTRACT.md section 6 names them: till barcodes as sent
-- (POS_BARCODE), WMS SKUs, and platform SKUs from listings and order items
-- (MALL/TMALL/JD). Each carries the evidence the SKU crosswalk weighs
-- (barcode, an item number hint, a title) and the sales riding on it, so
-- codes that cannot be mapped show the value at risk.
with

pos_lines as (

    select * from {{ ref('stg_pos__lines') }}

),

transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

wms_items as (

    select * from {{ ref('stg_wms__items') }}

),

listings as (

    select * from {{ ref('stg_ecommerce__listings') }}

),

order_items as (

    select * from {{ ref('stg_ecommerce__order_items') }}

),

orders as (

    select * from {{ ref('stg_ecommerce__orders') }}

),

till_sales as (

    select
        pos_lines.barcode as product_code,
        sum(case when transactions.txn_type = 'VOID' then 0 else pos_lines.line_amount end)
            as sales_value,
        count(*) as sales_lines,
        min(transactions.txn_at) as first_seen_at,
        max(transactions.txn_at) as last_seen_at
    from pos_lines
    inner join transactions
        on pos_lines.store_code = transactions.store_code
        and pos_lines.txn_id = transactions.txn_id
    where pos_lines.barcode is not null
    group by pos_lines.barcode

),

online_sales as (

    select
        order_items.platform,
        order_items.platform_sku,
        sum(case when orders.status = 'CANCELLED' then 0 else order_items.line_amount end)
            as sales_value,
        count(*) as sales_lines,
        min(orders.created_at) as first_seen_at,
        max(orders.created_at) as last_seen_at
    from order_items
    inner join orders
        on order_items.platform = orders.platform
        and order_items.order_id = orders.order_id
    where order_items.platform_sku is not null
    group by order_items.platform, order_items.platform_sku

),

till_codes as (

    select
        'POS_BARCODE' as source_system,
        product_code,
        product_code as barcode,
        cast(null as {{ dbt.type_string() }}) as item_no_hint,
        cast(null as {{ dbt.type_string() }}) as title,
        sales_value,
        sales_lines,
        first_seen_at,
        last_seen_at
    from till_sales

),

wms_codes as (

    select
        'WMS' as source_system,
        wms_sku as product_code,
        barcode,
        item_no as item_no_hint,
        description as title,
        cast(0 as decimal(18, 2)) as sales_value,
        cast(0 as bigint) as sales_lines,
        updated_at as first_seen_at,
        updated_at as last_seen_at
    from wms_items
    where wms_sku is not null

),

listed_codes as (

    select
        listings.platform as source_system,
        listings.platform_sku as product_code,
        listings.barcode,
        listings.seller_sku as item_no_hint,
        listings.title,
        coalesce(online_sales.sales_value, 0) as sales_value,
        coalesce(online_sales.sales_lines, 0) as sales_lines,
        coalesce(online_sales.first_seen_at, listings.updated_at) as first_seen_at,
        coalesce(online_sales.last_seen_at, listings.updated_at) as last_seen_at
    from listings
    left join online_sales
        on listings.platform = online_sales.platform
        and listings.platform_sku = online_sales.platform_sku
    where listings.platform_sku is not null

),

sold_but_not_listed as (

    select
        online_sales.platform as source_system,
        online_sales.platform_sku as product_code,
        cast(null as {{ dbt.type_string() }}) as barcode,
        cast(null as {{ dbt.type_string() }}) as item_no_hint,
        cast(null as {{ dbt.type_string() }}) as title,
        online_sales.sales_value,
        online_sales.sales_lines,
        online_sales.first_seen_at,
        online_sales.last_seen_at
    from online_sales
    left join listings
        on online_sales.platform = listings.platform
        and online_sales.platform_sku = listings.platform_sku
    where listings.platform_sku is null

),

final as (

    select * from till_codes
    union all
    select * from wms_codes
    union all
    select * from listed_codes
    union all
    select * from sold_but_not_listed

)

select * from final
