"""Running extractors in tests: settings for a temporary warehouse, ledger checks, snapshots."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from extractors.ledger import check_ledger
from extractors.sinks import open_sink
from ronghe.settings import Settings, load_settings

# Columns that record when something happened, not what: left out of comparisons.
VOLATILE_COLUMNS = {"_loaded_at", "started_at", "committed_at"}


def settings_for(sources: Path, warehouse: str, erp_url: str | None = None) -> Settings:
    base = load_settings()
    return dataclasses.replace(
        base,
        home=sources.parent / "home",
        sources_dir=sources,
        warehouse=warehouse,
        erp_url=erp_url or f"sqlite:///{sources / 'erp' / 'erp.db'}",
    )


def assert_ledger_balanced(settings: Settings) -> dict[str, Any]:
    """Every batch and stream balances, re-counted from the tables; returns the report."""
    with open_sink(settings.warehouse) as sink:
        report, problems = check_ledger(sink)
    assert problems == []
    for source, streams in report.items():
        for stream, figures in streams.items():
            assert figures["balanced"], f"{source}.{stream}: {figures}"
    return report


def land(extract: Callable[[Settings], dict], settings: Settings) -> dict[str, Any]:
    """Run an extractor and check the ledger afterwards, as every test does."""
    result = extract(settings)
    assert_ledger_balanced(settings)
    return result


def query(settings: Settings, sql: str) -> list[tuple]:
    with open_sink(settings.warehouse) as sink:
        return sink.fetch(sql)


def snapshot(settings: Settings) -> dict[str, list[tuple]]:
    """Every raw and ops table's rows (sorted, as text), without the volatile columns."""
    with open_sink(settings.warehouse) as sink:
        tables = sink.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'ops') ORDER BY 1, 2"
        )
        contents = {}
        for schema, table in tables:
            columns = [c for c in sink.columns(schema, table) if c not in VOLATILE_COLUMNS]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = sink.fetch(f'SELECT {select} FROM "{schema}"."{table}"')
            contents[f"{schema}.{table}"] = sorted(
                tuple("" if v is None else str(v) for v in row) for row in rows
            )
        return contents


def copy_erp_to_postgres(sqlite_path: Path, url: str) -> None:
    """Recreate an ERP held in SQLite in a PostgreSQL database (same tables, same rows)."""
    import sqlalchemy as sa

    from extractors.erp import erp_engine

    source = sa.create_engine(f"sqlite:///{sqlite_path}")
    target = erp_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(source)
    metadata.create_all(target)
    with source.connect() as read, target.begin() as write:
        for table in metadata.sorted_tables:
            rows = [dict(row) for row in read.execute(table.select()).mappings()]
            if rows:
                write.execute(table.insert(), rows)
    source.dispose()
    target.dispose()
