"""Column lineage from compiled SQL and the warehouse catalog, through `select *`."""

from __future__ import annotations

import duckdb
import pytest

from ronghe.lineage.columns import (
    COLUMNS_QUERY,
    catalog_from_rows,
    catalog_schema,
    column_lineage,
    indirect_lineage,
)

# The shape of every model here: `select *` CTEs over refs, a join, literals, a final `select *`.
MODEL_SQL = """
with lines as (
    select * from "wh"."staging"."stg_lines"
),
stores as (
    select * from "wh"."staging"."stg_stores"
),
final as (
    select
        lines.txn_id,
        'POS' as source_system,
        lines.qty * lines.unit_price as gross_amount,
        stores.region
    from lines
    left join stores on lines.store_code = stores.store_code
)
select * from final
"""


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("columns") / "wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema staging")
        con.execute(
            "create table staging.stg_lines (txn_id varchar, store_code varchar, "
            "qty integer, unit_price decimal(18, 2))"
        )
        con.execute("create table staging.stg_stores (store_code varchar, region varchar)")
        rows = con.execute(COLUMNS_QUERY).fetchall()
    return catalog_schema(catalog_from_rows(rows), "duckdb")


def test_columns_resolve_through_select_star_to_table_columns(schema):
    lineage = column_lineage(MODEL_SQL, schema, "duckdb")
    assert lineage == {
        "txn_id": [("staging", "stg_lines", "txn_id")],
        "source_system": [],
        "gross_amount": [
            ("staging", "stg_lines", "qty"),
            ("staging", "stg_lines", "unit_price"),
        ],
        "region": [("staging", "stg_stores", "region")],
    }


def test_sql_the_parser_cannot_read_raises(schema):
    with pytest.raises(Exception, match=r"(?i)tokeniz|pars|expect"):
        column_lineage("select from from where", schema, "duckdb")


def test_a_table_function_is_no_source(schema):
    lineage = column_lineage(
        "select days.n as day_number, lines.qty from generate_series(1, 3) as days(n) "
        'cross join "wh"."staging"."stg_lines" as lines',
        schema,
        "duckdb",
    )
    assert lineage == {"day_number": [], "qty": [("staging", "stg_lines", "qty")]}


# A count per group, and a group label that is a constant per branch of a union
# filtered on the store's region: neither is computed from a field.
COUNTS_SQL = """
with lines as (
    select * from "wh"."staging"."stg_lines" where qty > 0
),
labelled as (
    select lines.txn_id, 'NORTH' as area
    from lines join "wh"."staging"."stg_stores" as stores on lines.store_code = stores.store_code
    where stores.region = 'N'
    union all
    select txn_id, 'OTHER' from lines
),
final as (
    select area, count(*) as transactions from labelled group by area
)
select * from final
"""


def test_counts_and_constants_depend_indirectly_on_the_columns_that_choose_their_rows(schema):
    assert column_lineage(COUNTS_SQL, schema, "duckdb") == {"area": [], "transactions": []}
    chosen_by = indirect_lineage(COUNTS_SQL, schema, "duckdb")
    expected = [
        ("staging", "stg_lines", "qty", "FILTER"),
        ("staging", "stg_lines", "store_code", "JOIN"),
        ("staging", "stg_stores", "region", "FILTER"),
        ("staging", "stg_stores", "store_code", "JOIN"),
    ]
    assert chosen_by == {"area": expected, "transactions": expected}


def test_a_plain_projection_has_no_indirect_dependency(schema):
    assert indirect_lineage('select qty from "wh"."staging"."stg_lines"', schema, "duckdb") == {
        "qty": []
    }
