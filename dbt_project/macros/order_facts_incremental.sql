{#- Incremental maintenance of fct_order_lines.

    A sales document (till transaction or online order) is rebuilt whole
    whenever any row it depends on landed since the fact's last build. Rows
    come from several sources, each landing its batches one after another,
    so the fact keeps one watermark per source (`_pos_loaded_at`,
    `_ecommerce_loaded_at`, `_wms_loaded_at`): sources land concurrently, and
    a single shared watermark would skip a batch that started earlier but
    committed later than another source's.

    Documents can also disappear or stop counting: a re-sent store-day may
    drop a transaction, an order may be cancelled. So before the new rows go
    in, the pre-hook deletes every line of the store-days and online orders
    that changed; the model then inserts what they hold now. -#}

{% macro order_facts_watermark(column) -%}
    (
        select coalesce(max({{ column }}), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ this }}
    )
{%- endmacro %}

{#- Rows of the order facts' inputs that landed after the fact's last build,
    by the watermark of their own source. -#}
{% macro landed_after_order_facts_watermarks() -%}
    (
        _pos_loaded_at > {{ order_facts_watermark('_pos_loaded_at') }}
        or _ecommerce_loaded_at > {{ order_facts_watermark('_ecommerce_loaded_at') }}
        or _wms_loaded_at > {{ order_facts_watermark('_wms_loaded_at') }}
    )
{%- endmacro %}

{% macro delete_changed_order_documents() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as existing
    where (
        existing.source_system = 'POS'
        and exists (
            select 1
            from {{ ref('stg_pos__deliveries') }} as restated
            where restated._loaded_at > {{ order_facts_watermark('_pos_loaded_at') }}
                and restated.store_code = existing.store_code
                and restated.business_date = existing.pos_business_date
        )
    ) or (
        existing.source_system = 'ECOMMERCE'
        and exists (
            select 1
            from {{ ref('stg_ecommerce__orders') }} as changed
            where changed._last_loaded_at > {{ order_facts_watermark('_ecommerce_loaded_at') }}
                and changed.platform = existing.platform
                and changed.order_id = existing.order_id
        )
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- fct_orders follows fct_order_lines document by document: a document whose
    lines all went (a re-sent store-day dropped it, an order stopped counting)
    leaves fct_orders too. -#}
{% macro delete_orders_without_lines() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as existing
    where not exists (
        select 1
        from {{ ref('fct_order_lines') }} as order_lines
        where order_lines.order_key = existing.order_key
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
