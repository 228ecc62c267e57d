"""SQLAlchemy access to the warehouse for the quality code (DuckDB file or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import sqlalchemy as sa

from ronghe.settings import Settings
from ronghe.warehouse import connect as connect_duckdb


class WarehouseHeldInProcessError(RuntimeError):
    """The calling process holds the DuckDB file open with a different configuration."""


# How long a run waits for another process to release the DuckDB file.
LOCK_WAIT_SECONDS = 30.0


def warehouse_url(settings: Settings) -> str:
    """The SQLAlchemy URL of the configured warehouse."""
    if settings.warehouse_is_postgres:
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; Ronghe ships psycopg2.
        _, rest = settings.warehouse.split("://", 1)
        return f"postgresql+psycopg2://{rest}"
    return f"duckdb:///{settings.warehouse_path}"


def check_not_locked(settings: Settings) -> None:
    """On DuckDB, fail clearly (naming the holder) if another process holds the file.

    Callers in this process must not hold their own DuckDB connection to the
    file while the quality code runs: DuckDB refuses a second connection with
    a different configuration (duckdb-engine sets its own user agent).
    """
    if settings.warehouse_is_postgres:
        return
    try:
        connect_duckdb(settings.warehouse_path, wait_seconds=LOCK_WAIT_SECONDS).close()
    except duckdb.ConnectionException as error:
        if "different configuration" not in str(error):
            raise
        raise WarehouseHeldInProcessError(
            f"This process already holds {settings.warehouse_path} open with another DuckDB "
            "configuration (dbt-duckdb keeps the file open for its process's life), so the "
            "quality step cannot open it. Run the quality step in a process of its own, as "
            "an Airflow task does."
        ) from error


@contextmanager
def open_engine(settings: Settings) -> Iterator[sa.Engine]:
    """A SQLAlchemy engine on the warehouse, disposed (file released) on exit."""
    check_not_locked(settings)
    engine = sa.create_engine(warehouse_url(settings))
    try:
        yield engine
    finally:
        engine.dispose()


def existing_tables(connection: sa.Connection, schema: str | None = None) -> set[str]:
    """`schema.table` of every table and view (of one schema, if given)."""
    query = "select table_schema, table_name from information_schema.tables"
    params = {}
    if schema is not None:
        query += " where table_schema = :schema"
        params["schema"] = schema
    return {f"{s}.{t}" for s, t in connection.execute(sa.text(query), params)}
