-- dim_store is SCD2: at any moment one version of a store is in force, so a
-- sale finds exactly one store type and region. Overlapping versions would
-- give a sale two stores. Fails with each pair of versions that overlap.
select
    earlier.store_code,
    earlier.store_version_key as earlier_version_key,
    later.store_version_key as later_version_key
from {{ ref('dim_store') }} as earlier
inner join {{ ref('dim_store') }} as later
    on earlier.store_code = later.store_code
    and earlier.valid_from < later.valid_from
where earlier.valid_to is null
    or earlier.valid_to > later.valid_from
