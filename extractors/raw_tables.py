"""The raw tables a stream lands in: created on first use, widened when a source adds columns,
and checked against the column types this version writes.

A raw table outlives the code that created it. Where a column the framework
writes has another type in the table (a table landed by an earlier layout),
comparing it with what this version computes would fail or, worse, match
nothing. The row hash is derived data, so it is re-derived in place from the
row's source columns; any other mismatch stops the batch with a clear error
naming the table, the column and both types.
"""

from __future__ import annotations

from collections.abc import Sequence

from extractors.errors import LandingError
from extractors.events import log_event
from extractors.raw_columns import METADATA_COLUMNS, ROW_HASH_COLUMN
from extractors.row_checks import row_hash_sql
from extractors.sinks import Sink, qualified, quote

# How each type this framework declares is spelled back by information_schema
# (DuckDB spells it as declared; PostgreSQL by its standard name).
_SPELLINGS = {
    "VARCHAR": {"varchar", "character varying", "text"},
    "BIGINT": {"bigint"},
    "INTEGER": {"integer", "int"},
    "TIMESTAMP": {"timestamp", "timestamp without time zone"},
}


def ensure_raw_table(
    sink: Sink, table: str, columns: Sequence[tuple[str, str]], extras: Sequence[str] = ()
) -> list[str]:
    """Create `raw.<table>` with `columns` (name, type), or add the ones it lacks and check
    the types of the others. `extras` names the per-source metadata columns (not source
    fields). Returns what was changed in the existing table, for the batch's record."""
    existing = dict(
        sink.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
    )
    target = qualified("raw", table)
    if not existing:
        defs = ", ".join(f"{quote(name)} {kind}" for name, kind in columns)
        sink.execute(f"CREATE TABLE {target} ({defs})")
        return []
    changes = []
    for name, kind in columns:
        if name not in existing:
            sink.execute(f"ALTER TABLE {target} ADD COLUMN {quote(name)} {kind}")
        elif existing[name].lower() not in _SPELLINGS.get(kind, {kind.lower()}):
            if name != ROW_HASH_COLUMN:
                raise LandingError(
                    f"raw.{table}.{name} is {existing[name]} but this version writes {kind}: "
                    "the table was created by another layout; convert the column "
                    f"(ALTER TABLE raw.{table} ALTER COLUMN {name} TYPE {kind}) and run again"
                )
            framework = {n for n, _ in METADATA_COLUMNS} | {ROW_HASH_COLUMN, *extras}
            sources = [c for c in existing if c not in framework]
            sink.rewrite_column(target, name, kind, row_hash_sql(sources), sources)
            log_event("raw_column_rederived", table=f"raw.{table}", column=name, was=existing[name])
            changes.append(f"raw.{table}.{name}: {existing[name]} re-derived as {kind}")
    return changes
