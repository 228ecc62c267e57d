"""Two workarounds that make Great Expectations' SQL engine work on DuckDB.

GX 1.24 reaches DuckDB through SQLAlchemy and duckdb-engine 0.17. Two bugs
stand in the way; `make_duckdb_engine_work` repairs one GX execution engine
for both, and does nothing for other dialects (PostgreSQL works natively).

1. Metrics come back empty. GX opens a new SQLAlchemy connection for every
   metric query and closes it before the rows are read, so with duckdb-engine
   every validation fails with `MetricResolutionError: list index out of
   range` in `resolve_metric_bundle` (GX issues #10738 and #11579). GX keeps
   one connection open only for the dialects it lists in
   `_PERSISTED_CONNECTION_DIALECTS` (SQLite, SQL Server, ...); we do the same
   for DuckDB by handing GX one connection for the engine's lifetime.
   Remove when GX lists DuckDB there (or ships its native DuckDB engine).

2. Column reflection fails. SQLAlchemy >= 2.0.45 reflects PostgreSQL-style
   columns with a query on `pg_catalog.pg_collation` that DuckDB cannot bind,
   so duckdb-engine's `get_columns` raises (duckdb-engine issues #1379 and
   #1391, fix proposed in PR #1393; DuckDB issue #22069). GX then falls back
   to `SELECT * FROM <table>` without the schema, so every column expectation
   on a table outside `main` fails ("Table with name ... does not exist").
   We give the engine's dialect a `get_columns` that reads DuckDB's
   `information_schema.columns`. The primary-key reflection GX asks for with
   the columns fails the same way (a `pg_catalog` query with a `regclass`
   cast; the first one in a process cost 0.3 s before it failed): the
   dialect's `get_pk_constraint` reads `duckdb_constraints()` instead.
   Remove when duckdb-engine releases the fix.

`tests/quality/test_gx_duckdb.py` shows both failures without the workaround
and fails once a workaround is no longer needed, so it cannot outlive its use.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from great_expectations.execution_engine import SqlAlchemyExecutionEngine

# DuckDB spellings that differ from the PostgreSQL names duckdb-engine maps to types.
_DUCKDB_TYPE_ALIASES = {"double": "double precision", "decimal": "numeric"}


def make_duckdb_engine_work(execution_engine: SqlAlchemyExecutionEngine) -> sa.Connection | None:
    """Apply both workarounds to a DuckDB execution engine; return the connection it keeps.

    The caller closes the returned connection when it is done with the engine.
    Returns None, changing nothing, when the engine is not DuckDB.
    """
    if execution_engine.engine.dialect.name != "duckdb":
        return None
    keep_one_connection_open(execution_engine)
    reflect_columns_from_information_schema(execution_engine.engine)
    return kept_connection(execution_engine)


def kept_connection(execution_engine: SqlAlchemyExecutionEngine) -> sa.Connection | None:
    """The one connection every GX query of this engine runs on, or None if GX opens one per query.

    Temporary tables made on it by a metric stay visible to whoever holds it.
    """
    return getattr(execution_engine, "_ronghe_connection", None)


def keep_one_connection_open(execution_engine: SqlAlchemyExecutionEngine) -> None:
    """Workaround 1: every GX query on this engine runs on one open connection."""
    connection = execution_engine.engine.connect()

    @contextmanager
    def _the_connection() -> Iterator[sa.Connection]:
        yield connection

    execution_engine._ronghe_connection = connection  # type: ignore[attr-defined]
    execution_engine.get_connection = _the_connection  # type: ignore[method-assign]


def reflect_columns_from_information_schema(engine: sa.Engine) -> None:
    """Workaround 2: the dialect reflects columns and primary keys from DuckDB's catalog."""
    dialect = engine.dialect

    def get_columns(
        self: Any, connection: sa.Connection, table_name: str, schema: str | None = None, **_: Any
    ) -> list[dict[str, Any]]:
        rows = connection.execute(
            sa.text(
                "select column_name, data_type, is_nullable, column_default "
                "from information_schema.columns "
                "where table_schema = :schema and table_name = :table "
                "order by ordinal_position"
            ),
            {"schema": schema or "main", "table": str(table_name)},
        ).fetchall()
        if not rows:
            raise sa.exc.NoSuchTableError(f"{schema}.{table_name}" if schema else table_name)
        return [
            {
                "name": name,
                "type": _sqlalchemy_type(self, data_type),
                "nullable": is_nullable == "YES",
                "default": default,
                "autoincrement": False,
                "comment": None,
            }
            for name, data_type, is_nullable, default in rows
        ]

    def get_pk_constraint(
        self: Any, connection: sa.Connection, table_name: str, schema: str | None = None, **_: Any
    ) -> dict[str, Any]:
        columns = connection.execute(
            sa.text(
                "select constraint_column_names from duckdb_constraints() "
                "where schema_name = :schema and table_name = :table "
                "and constraint_type = 'PRIMARY KEY'"
            ),
            {"schema": schema or "main", "table": str(table_name)},
        ).scalar()
        return {"constrained_columns": list(columns or []), "name": None}

    dialect.get_columns = types.MethodType(get_columns, dialect)  # type: ignore[method-assign]
    dialect.get_pk_constraint = types.MethodType(get_pk_constraint, dialect)  # type: ignore[method-assign]


def _sqlalchemy_type(dialect: Any, duckdb_type: str) -> sa.types.TypeEngine:
    base = duckdb_type.split("(", 1)[0].strip().lower()
    type_class = dialect.ischema_names.get(_DUCKDB_TYPE_ALIASES.get(base, base))
    return type_class() if type_class is not None else sa.types.NullType()
