"""Reading and writing the warehouse from the identity step, on DuckDB or PostgreSQL.

The identity step reads a few intermediate tables and keeps its state in
schema `identity`. It needs little from the engine: run a query into a
DataFrame, run a statement, append a DataFrame to a table, and do all of a
run's writes in one transaction (a failed run leaves the previous state).
The SQL it sends is the common subset both engines accept.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import pandas as pd

from ronghe.settings import Settings

CHUNK_ROWS = 100_000
"""Rows built from Python objects and appended at a time: the evidence of every
record in one DataFrame was over a gigabyte at scale factor 10."""


def chunks(count: int) -> Iterator[slice]:
    """Slices of CHUNK_ROWS covering range(count), in order."""
    for start in range(0, count, CHUNK_ROWS):
        yield slice(start, min(start + CHUNK_ROWS, count))


class Warehouse(Protocol):
    def query(self, sql: str, params: tuple[Any, ...] = ()) -> pd.DataFrame: ...

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None: ...

    def append(self, table: str, frame: pd.DataFrame) -> None: ...

    def relation_exists(self, schema: str, name: str) -> bool: ...

    def transaction(self) -> Any: ...

    def close(self) -> None: ...


class DuckDBWarehouse:
    def __init__(self, path: str, wait_seconds: float = 30.0) -> None:
        from ronghe.warehouse import connect

        self.connection = connect(path, wait_seconds=wait_seconds)
        self.connection.execute("SET TimeZone = 'UTC'")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> pd.DataFrame:
        return self.connection.execute(sql, list(params)).df()

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.connection.execute(sql, list(params))

    def append(self, table: str, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        columns = ", ".join(frame.columns)
        self.connection.register("_identity_frame", frame)
        try:
            self.connection.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _identity_frame"
            )
        finally:
            self.connection.unregister("_identity_frame")

    def relation_exists(self, schema: str, name: str) -> bool:
        found = self.connection.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()
        return bool(found and found[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.connection.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


class PostgresWarehouse:
    def __init__(self, url: str) -> None:
        import psycopg2

        self.connection = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
        self.connection.autocommit = True
        self._in_transaction = False
        with self.connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> pd.DataFrame:
        with self.connection.cursor() as cursor:
            cursor.execute(_pg(sql), params or None)
            columns = [column.name for column in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns, dtype=object)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(_pg(sql), params or None)

    def append(self, table: str, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        # COPY in CSV: NULL is an unquoted empty field, empty strings are quoted.
        buffer = io.StringIO()
        frame.to_csv(
            buffer, index=False, header=False, na_rep="", date_format="%Y-%m-%d %H:%M:%S.%f"
        )
        buffer.seek(0)
        columns = ", ".join(frame.columns)
        with self.connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)

    def relation_exists(self, schema: str, name: str) -> bool:
        found = self.query(
            "SELECT count(*) AS n FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            (schema, name),
        )
        return bool(found.iloc[0, 0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.connection.autocommit = False
        try:
            yield
        except BaseException:
            self.connection.rollback()
            self.connection.autocommit = True
            raise
        self.connection.commit()
        self.connection.autocommit = True

    def close(self) -> None:
        self.connection.close()


def _pg(sql: str) -> str:
    """DuckDB-style `?` placeholders to psycopg2's `%s` (the SQL here has no literal `?` or `%`)."""
    return sql.replace("%", "%%").replace("?", "%s")


def open_warehouse(settings: Settings) -> Warehouse:
    if settings.warehouse_is_postgres:
        return PostgresWarehouse(settings.warehouse)
    return DuckDBWarehouse(settings.warehouse)
