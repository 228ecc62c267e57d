{#- The latest hard delete per primary key of one ERP table, as
    (pk, deleted_at). A row whose latest version is newer than its delete
    was re-created and stays. -#}
{% macro erp_hard_deletes(table_name) -%}
    select
        pk,
        max(deleted_at) as deleted_at
    from {{ ref('stg_erp__deletes') }}
    where table_name = '{{ table_name }}'
    group by pk
{%- endmacro %}
