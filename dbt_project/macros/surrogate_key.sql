{#- A stable surrogate key: the md5 of the natural key's parts.

    The same natural key gives the same key on every run and every engine,
    so facts and dimensions can be rebuilt or loaded incrementally without
    keys moving. Null parts hash as a fixed marker, distinct from ''. -#}
{% macro surrogate_key(fields) -%}
    {%- set parts = [] -%}
    {%- for field in fields -%}
        {%- do parts.append(
            "coalesce(cast(" ~ field ~ " as " ~ dbt.type_string() ~ "), '_ronghe_null_')"
        ) -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
