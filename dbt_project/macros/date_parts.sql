{#- Calendar parts for dim_date. `extract(isodow ...)` and `extract(week ...)`
    are shared by PostgreSQL and DuckDB; engines without them override here. -#}

{% macro iso_day_of_week(date_expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expression) -%}
    cast(extract(isodow from {{ date_expression }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro iso_week_of_year(date_expression) -%}
    {{ return(adapter.dispatch('iso_week_of_year')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_week_of_year(date_expression) -%}
    cast(extract(week from {{ date_expression }}) as {{ dbt.type_int() }})
{%- endmacro %}
