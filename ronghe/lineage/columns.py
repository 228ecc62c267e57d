"""Column lineage of a dbt model from its compiled SQL and the warehouse's catalog.

dbt models here read their inputs as `select * from {{ ref(...) }}` CTEs; a
SQL parser alone cannot say which columns a `*` stands for. sqlglot expands
every `*` from the warehouse's own catalog (`information_schema.columns`,
read after the build), then follows each output column down to the table
columns it is computed from.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope
from sqlglot.schema import MappingSchema

Catalog = dict[str, dict[str, dict[str, dict[str, str]]]]
"""database -> schema -> table -> column -> type, as sqlglot reads a schema."""

COLUMNS_QUERY = """
select table_catalog, table_schema, table_name, column_name, data_type
from information_schema.columns
where table_schema not in ('information_schema', 'pg_catalog')
order by table_catalog, table_schema, table_name, ordinal_position
"""


def catalog_from_rows(rows: list[tuple[str, str, str, str, str]]) -> Catalog:
    """The nested catalog of `COLUMNS_QUERY`'s rows."""
    catalog: Catalog = {}
    for database, schema, table, column, data_type in rows:
        columns = catalog.setdefault(database, {}).setdefault(schema, {}).setdefault(table, {})
        columns[column] = data_type
    return catalog


def catalog_schema(catalog: Catalog, dialect: str) -> MappingSchema:
    """The catalog as sqlglot's schema; build it once per build, not per model."""
    return MappingSchema(catalog, dialect=dialect)


def column_lineage(
    compiled_sql: str, schema: MappingSchema, dialect: str
) -> dict[str, list[tuple[str, str, str]]]:
    """Output column -> the (schema, table, column) source columns it is computed from.

    Columns made of literals alone (`'POS' as source_system`) have no source
    column and map to an empty list.
    """
    expression = sqlglot.parse_one(compiled_sql, dialect=dialect)
    qualified = qualify(expression, dialect=dialect, schema=schema, validate_qualify_columns=False)
    # Trimming each step's select list (for display) copies the tree per column.
    nodes = lineage(
        None,
        qualified,
        schema=schema,
        dialect=dialect,
        scope=build_scope(qualified),
        copy=False,
        trim_selects=False,
    )
    result: dict[str, list[tuple[str, str, str]]] = {}
    for column, root in nodes.items():
        sources: set[tuple[str, str, str]] = set()
        for node in root.walk():
            table = node.source
            # A table function (`generate_series`) has no schema: it is no source.
            if node.downstream or not isinstance(table, exp.Table) or not table.db:
                continue
            sources.add((table.db, table.name, node.name.rsplit(".", 1)[-1].strip('"')))
        result[column] = sorted(sources)
    return result
