{#- Text clean-up shared by the staging models. Raw keeps values exactly as
    they arrived; staging trims them and treats empty strings as missing. -#}

{#- Text columns are the engine's unbounded string type everywhere
    (`text`, `varchar`), so contracts hold on every engine. -#}
{% macro clean_text(column) -%}
    cast(nullif(trim({{ column }}), '') as {{ dbt.type_string() }})
{%- endmacro %}

{#- A raw text column passed through unchanged (landing metadata). -#}
{% macro as_text(column) -%}
    cast({{ column }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- A typed value from raw text: empty means null. -#}
{% macro cast_text(column, data_type) -%}
    {{ dbt.safe_cast(clean_text(column), data_type) }}
{%- endmacro %}

{#- Only the digits of a value (phones, barcodes), as a helper for matching;
    the identity and SKU layers own the real normalisation. -#}
{% macro digits_only(column) -%}
    {{ return(adapter.dispatch('digits_only')(column)) }}
{%- endmacro %}

{% macro default__digits_only(column) -%}
    nullif(regexp_replace({{ column }}, '[^0-9]', '', 'g'), '')
{%- endmacro %}

{#- A case expression mapping source codes to conformed codes; values not in
    the mapping pass through unchanged, so accepted_values tests see them. -#}
{% macro map_codes(column, mapping) -%}
    case {{ clean_text(column) }}
    {%- for source_value, code in mapping.items() %}
        when '{{ source_value }}' then '{{ code }}'
    {%- endfor %}
        else {{ clean_text(column) }}
    end
{%- endmacro %}
