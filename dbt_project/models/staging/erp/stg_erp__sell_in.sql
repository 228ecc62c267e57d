-- Sell-in documents (goods shipped to dealers): the latest version per
-- document, without documents hard-deleted in the ERP.
with

source as (

    select * from {{ source('erp', 'erp_sell_in') }}

),

deletes as (

    {{ erp_hard_deletes('erp_sell_in') }}

),

typed as (

    select
        {{ clean_text('doc_no') }} as doc_no,
        {{ clean_text('dealer_code') }} as dealer_code,
        {{ clean_text('item_no') }} as item_no,
        {{ cast_text('qty', dbt.type_int()) }} as qty,
        {{ cast_text('unit_price', 'decimal(12, 2)') }} as unit_price,
        {{ cast_text('shipped_on', 'date') }} as shipped_on,
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
            partition by doc_no
            order by updated_at desc, _loaded_at desc, _origin_line desc
        ) as version_rank
    from typed

),

final as (

    select
        ranked.doc_no,
        ranked.dealer_code,
        ranked.item_no,
        ranked.qty,
        ranked.unit_price,
        cast(ranked.qty * ranked.unit_price as decimal(18, 2)) as amount,
        ranked.shipped_on,
        ranked.updated_at,
        ranked._batch_id,
        ranked._origin,
        ranked._origin_line,
        ranked._loaded_at
    from ranked
    left join deletes
        on ranked.doc_no = deletes.pk
    where
        ranked.version_rank = 1
        and (deletes.deleted_at is null or deletes.deleted_at < ranked.updated_at)

)

select * from final
