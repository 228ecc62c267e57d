-- The ERP product master as it stands now: one row per item, the latest
-- version by updated_at, without items hard-deleted in the ERP.
with

versions as (

    select * from {{ ref('stg_erp__item_versions') }}

),

deletes as (

    {{ erp_hard_deletes('erp_item') }}

),

ranked as (

    select
        *,
        row_number() over (partition by item_no order by updated_at desc) as version_rank
    from versions

),

final as (

    select
        ranked.item_no,
        ranked.item_name,
        ranked.series,
        ranked.model,
        ranked.category_l1,
        ranked.category_l2,
        ranked.brand,
        ranked.barcode,
        ranked.barcode_digits,
        ranked.uom,
        ranked.unit_cost,
        ranked.status,
        ranked.created_at,
        ranked.updated_at,
        ranked._batch_id,
        ranked._origin,
        ranked._origin_line,
        ranked._loaded_at
    from ranked
    left join deletes
        on ranked.item_no = deletes.pk
    where
        ranked.version_rank = 1
        -- a delete newer than the latest version removes the item
        and (deletes.deleted_at is null or deletes.deleted_at < ranked.updated_at)

)

select * from final
