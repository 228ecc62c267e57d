"""Opening the DuckDB warehouse, with a clear message when another process holds it.

DuckDB allows one writing process per file. Within Ronghe the Airflow pool
`warehouse_writer` keeps our own tasks from colliding; this module turns the
remaining case (a BI tool or a shell holding the file open) into an error that
names the holder and says what to do.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from ronghe.settings import Settings


class WarehouseLockedError(RuntimeError):
    """Another process holds the DuckDB warehouse file open."""


_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _locked_message(path: Path, error: Exception) -> str:
    holder = _HOLDER.search(str(error))
    who = f"{holder['program']} (PID {holder['pid']})" if holder else "another process"
    return (
        f"The warehouse {path} is held open by {who}, so this run cannot write to it. "
        "DuckDB allows one process per file while it writes. Close that process's "
        "connection (BI tools should read the published copy, see the README's "
        "'Serving' section) and re-run: the run is safe to repeat."
    )


def connect(
    path: str | Path, *, read_only: bool = False, wait_seconds: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; wait up to `wait_seconds` for a lock, then fail clearly."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(_locked_message(path, error)) from error
            time.sleep(0.5)


@contextmanager
def warehouse_connection(settings: Settings, *, read_only: bool = True) -> Iterator[Any]:
    """A DB-API connection to the configured warehouse: the DuckDB file or PostgreSQL."""
    if settings.warehouse_is_postgres:
        import psycopg2

        connection = psycopg2.connect(settings.warehouse)
        connection.set_session(readonly=read_only)
    else:
        connection = connect(settings.warehouse_path, read_only=read_only)
    try:
        yield connection
    finally:
        connection.close()
