"""Where landed rows go: the DuckDB warehouse file or a PostgreSQL warehouse.

Extractors parse and validate in DuckDB (the *staging* connection) and never
talk to the warehouse engine directly; everything engine-specific lives here.

- `DuckDBSink`: staging is a second connection to the warehouse database,
  outside the batch's transaction; rows move between the two as Arrow.
- `PostgresSink`: staging is an in-memory DuckDB; rows reach PostgreSQL through
  `COPY ... FROM STDIN` inside the one transaction that also writes the ledger
  and the extraction state.

Warehouse SQL handed to `execute`/`fetch` is written once for both engines:
`?` placeholders, double-quoted identifiers, and only types both accept.
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from ronghe.warehouse import connect as connect_duckdb

STAGING_MEMORY_LIMIT = "4GB"
"""DuckDB's buffer pool for landing; beyond it DuckDB spills to its temp directory. Its
default (80% of RAM) lets one long batch hold most of the machine."""


def _configure(connection: duckdb.DuckDBPyConnection) -> None:
    # Progress bars would flood task logs; the extractors log their own progress.
    connection.execute("SET enable_progress_bar = false")
    connection.execute(f"SET memory_limit = '{STAGING_MEMORY_LIMIT}'")


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier (works in DuckDB and PostgreSQL)."""
    return '"' + identifier.replace('"', '""') + '"'


def qualified(schema: str, table: str) -> str:
    return f"{quote(schema)}.{quote(table)}"


class Sink(ABC):
    """One warehouse transaction plus the staging DuckDB it is fed from."""

    engine: str
    staging: duckdb.DuckDBPyConnection

    @abstractmethod
    def begin(self, lock_name: str) -> None:
        """Start the transaction; concurrent writers of `lock_name` wait for each other."""

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run portable SQL on the warehouse."""

    @abstractmethod
    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run portable SQL on the warehouse and return all rows."""

    @abstractmethod
    def write(self, table: str, columns: Sequence[str], staging_sql: str) -> int:
        """Append the rows of a staging query to warehouse `table` (schema-qualified)."""

    @abstractmethod
    def to_staging(self, warehouse_sql: str, staging_table: str) -> None:
        """Materialise the result of warehouse SQL as a staging table."""

    @abstractmethod
    def to_warehouse_temp(self, staging_sql: str, temp_table: str) -> None:
        """Materialise a staging query as a temporary table the warehouse SQL can join."""

    @abstractmethod
    def rewrite_column(
        self, table: str, column: str, kind: str, staging_expression: str, inputs: Sequence[str]
    ) -> None:
        """Replace `column` of warehouse `table` by a `kind` column holding, for every row,
        `staging_expression` (DuckDB SQL over the row's `inputs` columns)."""

    def text_between(self, column: str, low: str, high: str) -> str:
        """SQL: `column` between two text literals, in byte order (as DuckDB compares)."""
        return f"{column} BETWEEN {low} AND {high}"

    def columns(self, schema: str, table: str) -> list[str]:
        """The table's columns in order; empty when it does not exist."""
        rows = self.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            (schema, table),
        )
        return [row[0] for row in rows]

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBSink(Sink):
    engine = "duckdb"

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self._warehouse = connect_duckdb(self.path, read_only=read_only)
        _configure(self._warehouse)
        # Staging is a second connection to the same database (one memory limit) that stays
        # out of the batch's transaction: DuckDB frees a temporary table dropped inside an
        # open transaction only when it ends, so staging there would hold every chunk of a
        # long batch until commit. Rows cross between the two as Arrow record batches.
        self.staging = self._warehouse.cursor()
        self._in_transaction = False

    def begin(self, lock_name: str) -> None:
        # DuckDB admits one writing process per file; the file lock is the lock.
        self._warehouse.execute("BEGIN TRANSACTION")
        self._in_transaction = True

    def commit(self) -> None:
        self._warehouse.execute("COMMIT")
        self._in_transaction = False

    def rollback(self) -> None:
        if self._in_transaction:
            self._warehouse.execute("ROLLBACK")
            self._in_transaction = False

    def close(self) -> None:
        self.rollback()
        self.staging.close()
        self._warehouse.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._warehouse.execute(sql, list(params))

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._warehouse.execute(sql, list(params)).fetchall()

    def write(self, table: str, columns: Sequence[str], staging_sql: str) -> int:
        cols = ", ".join(quote(c) for c in columns)
        rows = self.staging.execute(f"SELECT {cols} FROM ({staging_sql})").to_arrow_reader()
        self._warehouse.register("_staged_rows", rows)
        try:
            result = self._warehouse.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _staged_rows"
            ).fetchone()
        finally:
            self._warehouse.unregister("_staged_rows")
        return int(result[0]) if result else 0

    def to_staging(self, warehouse_sql: str, staging_table: str) -> None:
        rows = self._warehouse.execute(warehouse_sql).to_arrow_reader()
        self.staging.register("_warehouse_rows", rows)
        try:
            self.staging.execute(
                f"CREATE OR REPLACE TEMP TABLE {quote(staging_table)} AS "
                "SELECT * FROM _warehouse_rows"
            )
        finally:
            self.staging.unregister("_warehouse_rows")

    def to_warehouse_temp(self, staging_sql: str, temp_table: str) -> None:
        rows = self.staging.execute(staging_sql).to_arrow_reader()
        self._warehouse.register("_staged_rows", rows)
        try:
            self._warehouse.execute(
                f"CREATE OR REPLACE TEMP TABLE {quote(temp_table)} AS SELECT * FROM _staged_rows"
            )
        finally:
            self._warehouse.unregister("_staged_rows")

    def rewrite_column(
        self, table: str, column: str, kind: str, staging_expression: str, inputs: Sequence[str]
    ) -> None:
        # The expression is DuckDB SQL, so the warehouse evaluates it in place.
        self.execute(f"ALTER TABLE {table} DROP COLUMN {quote(column)}")
        self.execute(f"ALTER TABLE {table} ADD COLUMN {quote(column)} {kind}")
        self.execute(f"UPDATE {table} SET {quote(column)} = {staging_expression}")


class PostgresSink(Sink):
    engine = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg2

        self.staging = duckdb.connect()
        _configure(self.staging)
        self._conn = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
        self._conn.autocommit = False
        self._tmpdir = Path(tempfile.mkdtemp(prefix="ronghe-pg-copy-"))

    def text_between(self, column: str, low: str, high: str) -> str:
        # The database's collation may order text differently; "C" is byte order.
        return f'{column} COLLATE "C" BETWEEN {low} AND {high}'

    @staticmethod
    def _sql(sql: str) -> str:
        # Portable SQL uses `?`; psycopg2 wants `%s` (and a literal % doubled).
        return sql.replace("%", "%%").replace("?", "%s")

    def begin(self, lock_name: str) -> None:
        with self._conn.cursor() as cur:
            # Two runs of one source must not both land the same new data:
            # the second waits here until the first commits or rolls back.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ronghe:{lock_name}",))

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        try:
            self._conn.rollback()
            self._conn.close()
        finally:
            self.staging.close()
            for leftover in self._tmpdir.glob("*"):
                leftover.unlink()
            self._tmpdir.rmdir()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._conn.cursor() as cur:
            cur.execute(self._sql(sql) if params else sql, tuple(params) or None)

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._conn.cursor() as cur:
            cur.execute(self._sql(sql) if params else sql, tuple(params) or None)
            return cur.fetchall()

    def _copy_in(self, table: str, columns: Sequence[str], staging_sql: str) -> int:
        cols = ", ".join(quote(c) for c in columns)
        path = self._tmpdir / "copy.csv"
        # DuckDB writes NULL as an empty field and an empty string as `""`,
        # which is exactly how PostgreSQL's CSV COPY tells the two apart.
        self.staging.execute(
            f"COPY (SELECT {cols} FROM ({staging_sql})) TO '{path}' (FORMAT csv, HEADER false)"
        )
        try:
            with path.open("rb") as handle, self._conn.cursor() as cur:
                cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)", handle)
                return cur.rowcount
        finally:
            os.unlink(path)

    def write(self, table: str, columns: Sequence[str], staging_sql: str) -> int:
        return self._copy_in(table, columns, staging_sql)

    def to_staging(self, warehouse_sql: str, staging_table: str) -> None:
        import pyarrow as pa

        with self._conn.cursor() as cur:
            cur.execute(warehouse_sql)
            described = [
                (d.name, _ARROW_TYPES.get(d.type_code, pa.string())) for d in cur.description
            ]
            rows = cur.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in described]
        table = pa.table(
            {
                name: pa.array(values, kind)
                for (name, kind), values in zip(described, columns, strict=True)
            }
        )
        self.staging.register("_pg_result", table)
        try:
            self.staging.execute(
                f"CREATE OR REPLACE TEMP TABLE {quote(staging_table)} AS SELECT * FROM _pg_result"
            )
        finally:
            self.staging.unregister("_pg_result")

    def rewrite_column(
        self, table: str, column: str, kind: str, staging_expression: str, inputs: Sequence[str]
    ) -> None:
        # The expression is DuckDB SQL: rows travel to staging by their physical id (ctid)
        # and the values come back in one COPY, all inside the open transaction.
        self.execute(f"ALTER TABLE {table} DROP COLUMN {quote(column)}")
        self.execute(f"ALTER TABLE {table} ADD COLUMN {quote(column)} {kind}")
        selected = ", ".join(quote(c) for c in inputs)
        self.to_staging(f"SELECT ctid::text AS _rid, {selected} FROM {table}", "_rewrite_rows")
        self.to_warehouse_temp(
            f"SELECT _rid, {staging_expression} AS _value FROM _rewrite_rows", "_rewrite_values"
        )
        self.staging.execute("DROP TABLE _rewrite_rows")
        self.execute(
            f"UPDATE {table} t SET {quote(column)} = v._value FROM _rewrite_values v "
            "WHERE t.ctid = v._rid::tid"
        )

    def to_warehouse_temp(self, staging_sql: str, temp_table: str) -> None:
        described = self.staging.execute(f"DESCRIBE {staging_sql}").fetchall()
        column_defs = ", ".join(f"{quote(name)} {_pg_type(kind)}" for name, kind, *_ in described)
        self.execute(f"DROP TABLE IF EXISTS {quote(temp_table)}")
        self.execute(f"CREATE TEMP TABLE {quote(temp_table)} ({column_defs}) ON COMMIT DROP")
        self._copy_in(quote(temp_table), [row[0] for row in described], staging_sql)


def _arrow_types() -> dict[int, Any]:
    import pyarrow as pa

    # PostgreSQL type OIDs of the columns our warehouse SQL returns; others come as text.
    return {
        16: pa.bool_(),
        20: pa.int64(),
        21: pa.int64(),
        23: pa.int64(),
        1114: pa.timestamp("us"),
    }


_ARROW_TYPES = _arrow_types()


def _pg_type(duckdb_type: str) -> str:
    if duckdb_type in {"INTEGER", "BIGINT", "SMALLINT", "BOOLEAN", "TIMESTAMP", "DATE", "DOUBLE"}:
        return duckdb_type
    if duckdb_type in {"HUGEINT", "UBIGINT", "UINTEGER"}:
        return "NUMERIC"
    return "TEXT"


@contextmanager
def sink_transaction(warehouse: str, lock_name: str) -> Iterator[Sink]:
    """A sink holding one transaction: committed when the block ends, rolled back
    (and the error raised) when it raises; closed either way."""
    sink = open_sink(warehouse)
    try:
        sink.begin(lock_name)
        yield sink
        sink.commit()
    except BaseException:
        sink.rollback()
        raise
    finally:
        sink.close()


def open_sink(warehouse: str, read_only: bool = False) -> Sink:
    """The sink for a warehouse setting: a `postgresql://` URL or a DuckDB file path.

    `read_only` matters for DuckDB (readers do not take the writer's lock); a
    PostgreSQL session only reads when its caller only reads.
    """
    if warehouse.startswith(("postgresql://", "postgres://", "postgresql+psycopg2://")):
        return PostgresSink(warehouse)
    return DuckDBSink(warehouse, read_only=read_only)
