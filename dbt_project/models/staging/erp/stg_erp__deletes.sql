-- Hard deletes captured from the ERP, typed, one row per (table, key, time):
-- the latest-state staging models drop deleted rows with it, and dim_store
-- closes a deleted store's history with it.
with

source as (

    select * from {{ source('erp', 'erp_deleted') }}

),

typed as (

    select distinct
        {{ clean_text('table_name') }} as table_name,
        {{ clean_text('pk') }} as pk,
        {{ local_to_utc(clean_text('deleted_at')) }} as deleted_at
    from source

)

select * from typed
