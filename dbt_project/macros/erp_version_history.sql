{#- Every ERP version of one table's rows, in order, for a type 2 history:
    the versions model's columns plus version_number, next_updated_at (when
    the next version was written) and closing_deleted_at (the hard delete
    that closed this version, if any: a delete closes the version it falls
    in; a re-creation starts a new one). -#}
{% macro erp_version_history(versions_model, key, table_name) -%}
    with sequenced as (
        select
            *,
            row_number() over (partition by {{ key }} order by updated_at) as version_number,
            lead(updated_at) over (partition by {{ key }} order by updated_at) as next_updated_at
        from {{ ref(versions_model) }}
    ),

    deletes as (
        select pk as {{ key }}, deleted_at
        from {{ ref('stg_erp__deletes') }}
        where table_name = '{{ table_name }}'
    ),

    closing_deletes as (
        select
            sequenced.{{ key }},
            sequenced.updated_at,
            min(deletes.deleted_at) as closing_deleted_at
        from sequenced
        inner join deletes
            on sequenced.{{ key }} = deletes.{{ key }}
            and deletes.deleted_at >= sequenced.updated_at
            and (sequenced.next_updated_at is null or deletes.deleted_at < sequenced.next_updated_at)
        group by sequenced.{{ key }}, sequenced.updated_at
    )

    select
        sequenced.*,
        closing_deletes.closing_deleted_at
    from sequenced
    left join closing_deletes
        on sequenced.{{ key }} = closing_deletes.{{ key }}
        and sequenced.updated_at = closing_deletes.updated_at
{%- endmacro %}
