{#- Elapsed time between two UTC timestamps, in seconds (fractional where
    the engine keeps sub-seconds). Not dbt.datediff: DuckDB's counts unit
    boundaries crossed while PostgreSQL's counts whole units elapsed, so the
    two engines would disagree on lead times. -#}
{% macro seconds_between(start_expression, end_expression) -%}
    {{ return(adapter.dispatch('seconds_between')(start_expression, end_expression)) }}
{%- endmacro %}

{% macro default__seconds_between(start_expression, end_expression) -%}
    extract(epoch from ({{ end_expression }} - {{ start_expression }}))
{%- endmacro %}
