{#- Incremental models pick up raw rows landed since their last build.

    The watermark is the newest `_loaded_at` already in the model. A model
    reads one source, and a source lands its batches one after another, each
    committed whole with one `_loaded_at` (the batch's start): every batch
    landed after the last build is strictly newer than the watermark, and
    none can commit behind it. On a full refresh the condition is true for
    every row. -#}
{% macro loaded_since_last_build(column='_loaded_at', watermark_column='_loaded_at') -%}
    {%- if is_incremental() -%}
        {{ column }} > (
            select coalesce(max({{ watermark_column }}), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
            from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
