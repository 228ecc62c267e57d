"""Carry dbt's descriptions from the candidate marts to the tables BI tools read.

dbt writes each mart's description and its columns' descriptions as database
comments (`persist_docs`) on `marts_candidate`. The publish copies the data
into `marts` (and the DuckDB serving copy) with plain SQL, which copies no
comments, so BI tools that show comments (Superset, Metabase, Power BI's
navigator, psql's `\\d+`) would see none. `copy_comments` re-applies them on
the published table, on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

_DUCKDB_TABLE = (
    "select comment from duckdb_tables() "
    "where database_name = current_database() and schema_name = :schema and table_name = :table"
)
_DUCKDB_COLUMNS = (
    "select column_name, comment from duckdb_columns() "
    "where database_name = current_database() and schema_name = :schema "
    "and table_name = :table and comment is not null"
)
_POSTGRES_TABLE = "select obj_description(to_regclass(:qualified), 'pg_class')"
_POSTGRES_COLUMNS = (
    "select attname, col_description(attrelid, attnum) from pg_attribute "
    "where attrelid = to_regclass(:qualified) and attnum > 0 and not attisdropped "
    "and col_description(attrelid, attnum) is not null"
)


def copy_comments(connection: sa.Connection, schema: str, table: str, target: str) -> int:
    """Give `target` (a qualified table name) the comments of `schema.table`.

    Returns the number of comments written (table and columns).
    """
    table_comment, column_comments = _comments(connection, schema, table)
    statements = []
    if table_comment:
        statements.append(f"comment on table {target} is {_literal(table_comment)}")
    statements += [
        f'comment on column {target}."{column}" is {_literal(comment)}'
        for column, comment in column_comments
    ]
    # Straight to the driver, without parameters: descriptions hold `%` and `:`,
    # which the SQLAlchemy and psycopg2 parameter styles would read as placeholders.
    cursor = connection.connection.cursor()
    try:
        for statement in statements:
            cursor.execute(statement)
    finally:
        cursor.close()
    return len(statements)


def _comments(
    connection: sa.Connection, schema: str, table: str
) -> tuple[str | None, list[tuple[str, str]]]:
    if connection.dialect.name == "duckdb":
        names = {"schema": schema, "table": table}
        table_comment = connection.execute(sa.text(_DUCKDB_TABLE), names).scalar()
        columns = connection.execute(sa.text(_DUCKDB_COLUMNS), names).all()
    else:
        qualified = {"qualified": f'"{schema}"."{table}"'}
        table_comment = connection.execute(sa.text(_POSTGRES_TABLE), qualified).scalar()
        columns = connection.execute(sa.text(_POSTGRES_COLUMNS), qualified).all()
    return table_comment, [(name, comment) for name, comment in columns]


def _literal(text: str) -> str:
    """A SQL string literal; COMMENT ON takes no bind parameters on either engine."""
    return "'" + text.replace("'", "''") + "'"
