-- Every version of every ERP item as pulled, typed, one row per
-- (item_no, updated_at): the history dim_sku and price checks can read.
-- The same version pulled twice (overlapping pulls) is kept once.
with

source as (

    select * from {{ source('erp', 'erp_item') }}

),

typed as (

    select
        {{ clean_text('item_no') }} as item_no,
        {{ clean_text('item_name') }} as item_name,
        {{ clean_text('series') }} as series,
        {{ clean_text('model') }} as model,
        {{ clean_text('category_l1') }} as category_l1,
        {{ clean_text('category_l2') }} as category_l2,
        {{ clean_text('brand') }} as brand,
        {{ clean_text('barcode') }} as barcode,
        {{ digits_only('barcode') }} as barcode_digits,
        {{ clean_text('uom') }} as uom,
        {{ cast_text('unit_cost', 'decimal(12, 2)') }} as unit_cost,
        upper({{ clean_text('status') }}) as status,
        {{ local_to_utc(clean_text('created_at')) }} as created_at,
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
        -- the last landed copy of a version carries the freshest lineage
        row_number() over (
            partition by item_no, updated_at
            order by _loaded_at desc, _origin_line desc
        ) as copy_rank
    from typed

),

final as (

    select
        item_no,
        item_name,
        series,
        model,
        category_l1,
        category_l2,
        brand,
        barcode,
        barcode_digits,
        uom,
        unit_cost,
        status,
        created_at,
        updated_at,
        _batch_id,
        _origin,
        _origin_line,
        _loaded_at
    from ranked
    where copy_rank = 1

)

select * from final
