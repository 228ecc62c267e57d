{#
    Masking of personal values for layers BI tools read (docs/privacy.md).
    Portable SQL only (DuckDB, PostgreSQL): left/right/substring, concat and
    dbt.position. A null stays null. Columns built with these macros are
    tagged `meta: {pii: false, pii_category: <category>_masked}`.
#}

{# 138****8000: the first three and last four digits of a mainland mobile,
   the form the marketplaces already publish. Input: E.164 or national digits. #}
{% macro mask_phone(column) -%}
    case
        when {{ column }} is null then null
        else {{ dbt.concat([
            "substring(" ~ dbt.right(column, "11") ~ " from 1 for 3)",
            "'****'",
            dbt.right(column, "4"),
        ]) }}
    end
{%- endmacro %}

{# z***@example.com: the first character of the local part and the domain. #}
{% macro mask_email(column) -%}
    case
        when {{ column }} is null then null
        when {{ dbt.position("'@'", column) }} = 0 then '***'
        else {{ dbt.concat([
            "substring(" ~ column ~ " from 1 for 1)",
            "'***'",
            "substring(" ~ column ~ " from " ~ dbt.position("'@'", column) ~ ")",
        ]) }}
    end
{%- endmacro %}

{# 张**: the first character (the surname of a Chinese name), the rest starred. #}
{% macro mask_name(column) -%}
    case
        when {{ column }} is null then null
        else {{ dbt.concat(["substring(" ~ column ~ " from 1 for 1)", "'**'"]) }}
    end
{%- endmacro %}
