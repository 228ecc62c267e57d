-- List prices per item, channel and validity start. The ERP table has no
-- updated_at and closes a price by setting valid_to in place, so the copy
-- landed last is the current one.
with

source as (

    select * from {{ source('erp', 'erp_price') }}

),

deletes as (

    {{ erp_hard_deletes('erp_price') }}

),

typed as (

    select
        {{ clean_text('item_no') }} as item_no,
        upper({{ clean_text('channel') }}) as channel,
        {{ cast_text('list_price', 'decimal(12, 2)') }} as list_price,
        {{ cast_text('valid_from', 'date') }} as valid_from,
        {{ cast_text('valid_to', 'date') }} as valid_to,
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
            partition by item_no, channel, valid_from
            order by _loaded_at desc, _origin_line desc
        ) as version_rank
    from typed

),

final as (

    select
        ranked.item_no,
        ranked.channel,
        ranked.list_price,
        ranked.valid_from,
        ranked.valid_to,
        ranked._batch_id,
        ranked._origin,
        ranked._origin_line,
        ranked._loaded_at
    from ranked
    left join deletes
        on deletes.pk = {{ dbt.concat(["ranked.item_no", "'|'", "ranked.channel", "'|'", "cast(ranked.valid_from as " ~ dbt.type_string() ~ ")"]) }}
    where
        ranked.version_rank = 1
        and (deletes.deleted_at is null or deletes.deleted_at < ranked._loaded_at)

)

select * from final
