"""Column lineage of a dbt model from its compiled SQL and the warehouse's catalog.

dbt models here read their inputs as `select * from {{ ref(...) }}` CTEs; a
SQL parser alone cannot say which columns a `*` stands for. sqlglot expands
every `*` from the warehouse's own catalog (`information_schema.columns`,
read after the build), then follows each output column down to the table
columns it is computed from.

A figure can also depend on columns it is not computed from: a `count(*)`
per group on the grouping columns, a constant on the rows a filter or a join
chose. `indirect_lineage` names those (OpenLineage's INDIRECT transformations,
subtypes GROUP_BY, FILTER, JOIN) for every select the column passes through
and every select feeding its rows.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.schema import MappingSchema

Source = tuple[str, str, str]
"""(schema, table, column) of a table column."""
Indirect = tuple[str, str, str, str]
"""(schema, table, column, subtype): a table column that chose the rows."""

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
) -> dict[str, list[Source]]:
    """Output column -> the (schema, table, column) source columns it is computed from.

    Columns made of literals alone (`'POS' as source_system`) have no source
    column and map to an empty list.
    """
    direct, _ = full_column_lineage(compiled_sql, schema, dialect)
    return direct


def indirect_lineage(
    compiled_sql: str, schema: MappingSchema, dialect: str
) -> dict[str, list[Indirect]]:
    """Output column -> the table columns that chose its rows (group, filter, join keys)."""
    _, indirect = full_column_lineage(compiled_sql, schema, dialect)
    return indirect


def full_column_lineage(
    compiled_sql: str, schema: MappingSchema, dialect: str
) -> tuple[dict[str, list[Source]], dict[str, list[Indirect]]]:
    """Both: each output column's direct sources and its indirect ones."""
    expression = sqlglot.parse_one(compiled_sql, dialect=dialect)
    qualified = qualify(expression, dialect=dialect, schema=schema, validate_qualify_columns=False)
    root_scope = build_scope(qualified)
    # Trimming each step's select list (for display) copies the tree per column.
    nodes = lineage(
        None,
        qualified,
        schema=schema,
        dialect=dialect,
        scope=root_scope,
        copy=False,
        trim_selects=False,
    )
    scopes = {id(scope.expression): scope for scope in root_scope.traverse()} if root_scope else {}
    direct: dict[str, list[Source]] = {}
    indirect: dict[str, list[Indirect]] = {}
    for column, root in nodes.items():
        sources: set[Source] = set()
        chosen_by: set[Indirect] = set()
        for node in root.walk():
            table = node.source
            if id(table) in scopes:
                chosen_by |= _row_choosers(scopes[id(table)], set())
            # A table function (`generate_series`) has no schema: it is no source.
            if node.downstream or not isinstance(table, exp.Table) or not table.db:
                continue
            sources.add((table.db, table.name, node.name.rsplit(".", 1)[-1].strip('"')))
        direct[column] = sorted(sources)
        indirect[column] = sorted(chosen_by)
    return direct, indirect


_CLAUSES: tuple[tuple[str, str], ...] = (
    ("where", "FILTER"),
    ("group", "GROUP_BY"),
    ("having", "FILTER"),
)


def _row_choosers(scope: Scope, seen: set[int]) -> set[Indirect]:
    """Table columns that decide which rows a select (and the selects it reads) returns."""
    if id(scope) in seen:
        return set()
    seen.add(id(scope))
    found: set[Indirect] = set()
    select = scope.expression
    clauses = [(select.args.get(name), subtype) for name, subtype in _CLAUSES]
    clauses += [(join.args.get("on"), "JOIN") for join in select.args.get("joins") or []]
    for clause, subtype in clauses:
        for column in clause.find_all(exp.Column) if clause is not None else ():
            for source in _resolve(scope, column, seen):
                found.add((*source, subtype))
    for child in [
        *scope.set_operation_scopes,
        *(s for s in scope.sources.values() if isinstance(s, Scope)),
    ]:
        found |= _row_choosers(child, seen)
    return found


def _resolve(scope: Scope, column: exp.Column, seen: set[int]) -> set[Source]:
    """The table columns a qualified column reference stands for, through CTEs and subqueries."""
    source = scope.sources.get(column.table)
    if isinstance(source, exp.Table):
        return {(source.db, source.name, column.name)} if source.db else set()
    if not isinstance(source, Scope):
        return set()
    found: set[Source] = set()
    for branch in source.set_operation_scopes or [source]:
        for projection in branch.expression.selects:
            if projection.alias_or_name == column.name:
                for inner in projection.find_all(exp.Column):
                    found |= _resolve(branch, inner, seen)
    return found
