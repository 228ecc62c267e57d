{#- POS re-sends: the highest complete delivery of a store-day supersedes
    the earlier ones, whole (CONTRACT.md section 2); stg_pos__deliveries
    names the current one. The incremental POS models rebuild a store-day
    whenever its current delivery landed after their last build. -#}

{#- Store-days whose current delivery landed since the model's last build
    (every store-day on a full build). -#}
{% macro pos_restated_store_days() -%}
    select store_code, business_date, delivery
    from {{ ref('stg_pos__deliveries') }}
    where {{ loaded_since_last_build() }}
{%- endmacro %}

{#- Pre-hook of the incremental POS models: remove every store-day that a
    newly landed delivery restates, before the new rows go in. delete+insert
    alone would keep the old rows when the restating delivery holds none. -#}
{% macro delete_restated_store_days() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as existing
    where exists (
        select 1
        from ({{ pos_restated_store_days() }}) as restated
        where restated.store_code = existing.store_code
            and restated.business_date = existing.business_date
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
