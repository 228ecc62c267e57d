{#- Time-zone conversions. Sessions run in UTC on every engine (see
    profiles.yml); timestamps in the warehouse are UTC `timestamp` values
    without zone, and local dates are derived from them with the business
    time zone (var `local_timezone`, from config/ronghe.yml). -#}

{#- A local wall-clock time (text or timestamp, in the business time zone)
    as a UTC timestamp. -#}
{% macro local_to_utc(expression) -%}
    {{ return(adapter.dispatch('local_to_utc')(expression)) }}
{%- endmacro %}

{% macro default__local_to_utc(expression) -%}
    cast((cast({{ expression }} as {{ dbt.type_timestamp() }}) at time zone '{{ var("local_timezone") }}') at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- A UTC timestamp as wall-clock time in the business time zone. -#}
{% macro utc_to_local(expression) -%}
    {{ return(adapter.dispatch('utc_to_local')(expression)) }}
{%- endmacro %}

{% macro default__utc_to_local(expression) -%}
    cast((cast({{ expression }} as {{ dbt.type_timestamp() }}) at time zone 'UTC') at time zone '{{ var("local_timezone") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The business (local) date of a UTC timestamp. -#}
{% macro local_date(expression) -%}
    cast({{ utc_to_local(expression) }} as date)
{%- endmacro %}

{#- An ISO 8601 text with an offset (or `Z`) as a UTC timestamp; text without
    an offset is read as UTC, as the e-commerce API defines its times. -#}
{% macro iso_to_utc(expression) -%}
    {{ return(adapter.dispatch('iso_to_utc')(expression)) }}
{%- endmacro %}

{% macro default__iso_to_utc(expression) -%}
    cast(cast({{ expression }} as {{ type_timestamp_tz() }}) at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro type_timestamp_tz() -%}
    {{ return(adapter.dispatch('type_timestamp_tz')()) }}
{%- endmacro %}

{% macro default__type_timestamp_tz() -%}
    timestamp with time zone
{%- endmacro %}
