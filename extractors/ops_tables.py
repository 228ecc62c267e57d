"""The operational tables of schema `ops` that every landing batch writes.

All are append-only except `extract_state` (the current watermark or cursor of
each stream). Types are the ones DuckDB and PostgreSQL share, so the same DDL
runs on both engines; every statement is idempotent.

- `load_batches`: one row per committed batch (a batch that changed nothing is
  not committed and leaves no row).
- `load_ledger`: per batch, stream and origin (file, ERP table, API request):
  `read = loaded + quarantined + duplicate + superseded`. `entry` is `landing`
  for rows read by the batch, or `adjustment` when the batch supersedes an
  origin landed by an earlier batch (read 0, loaded -n, superseded +n).
- `quarantine`: rows that could not be accepted, with their raw text and reason.
- `skipped_rows`: rows read but not appended, one per row: `duplicate` (an
  exact repeat) or `superseded` (its delivery was replaced in the same batch).
- `superseded_origins`: origins landed earlier whose rows a later delivery replaced.
- `file_registry`: every file landed (path, SHA-256, size), so it is not read again.
- `extract_state`: watermarks and cursors, committed with the rows they cover.
- `schema_drift`: columns a delivery added (kept as VARCHAR) or left out.
- `rejected_deliveries`: deliveries refused whole (e.g. a required column is
  missing); not registered, so they are retried once fixed.
- `deferred_deliveries`: deliveries seen but not taken yet, with the reason
  (a POS drop without `_SUCCESS` is still being written). Recorded the first
  time a delivery is seen waiting; it lands once complete, so a deferred
  origin with nothing landed under it is still outstanding.
- `control_totals`: summary lines a source sends beside its rows, checked
  against the rows.
"""

from __future__ import annotations

from extractors.sinks import Sink

OPS_TABLES: dict[str, str] = {
    "load_batches": """
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        engine VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        committed_at TIMESTAMP NOT NULL,
        files BIGINT NOT NULL,
        read BIGINT NOT NULL,
        loaded BIGINT NOT NULL,
        quarantined BIGINT NOT NULL,
        duplicate BIGINT NOT NULL,
        superseded BIGINT NOT NULL,
        rejected_deliveries BIGINT NOT NULL""",
    "load_ledger": """
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        stream VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        entry VARCHAR NOT NULL,
        read BIGINT NOT NULL,
        loaded BIGINT NOT NULL,
        quarantined BIGINT NOT NULL,
        duplicate BIGINT NOT NULL,
        superseded BIGINT NOT NULL""",
    "quarantine": """
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        stream VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        origin_line BIGINT,
        reason VARCHAR NOT NULL,
        raw_text VARCHAR""",
    "skipped_rows": """
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        stream VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        origin_line BIGINT,
        disposition VARCHAR NOT NULL,
        detail VARCHAR""",
    "superseded_origins": """
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        stream VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        superseded_by VARCHAR NOT NULL,
        rows_landed BIGINT NOT NULL""",
    "file_registry": """
        path VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        size_bytes BIGINT NOT NULL,
        mtime_ns BIGINT NOT NULL,
        source VARCHAR NOT NULL,
        stream VARCHAR,
        disposition VARCHAR NOT NULL,
        batch_id VARCHAR NOT NULL""",
    "extract_state": """
        source VARCHAR NOT NULL,
        stream VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        value VARCHAR,
        batch_id VARCHAR NOT NULL""",
    "schema_drift": """
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        stream VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        column_name VARCHAR NOT NULL,
        change VARCHAR NOT NULL""",
    "rejected_deliveries": """
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        stream VARCHAR,
        origin VARCHAR NOT NULL,
        reason VARCHAR NOT NULL""",
    "deferred_deliveries": """
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        stream VARCHAR,
        origin VARCHAR NOT NULL,
        reason VARCHAR NOT NULL""",
    "control_totals": """
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        stream VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        origin_line BIGINT,
        raw_text VARCHAR,
        measure VARCHAR NOT NULL,
        declared VARCHAR,
        computed VARCHAR,
        status VARCHAR NOT NULL""",
}


def ensure_ops_schema(sink: Sink) -> None:
    """Create schemas `raw` and `ops` and the ops tables if they do not exist."""
    sink.execute("CREATE SCHEMA IF NOT EXISTS raw")
    sink.execute("CREATE SCHEMA IF NOT EXISTS ops")
    for table, columns in OPS_TABLES.items():
        sink.execute(f"CREATE TABLE IF NOT EXISTS ops.{table} ({columns})")


def ops_columns(table: str) -> list[str]:
    """Column names of an ops table, in order."""
    return [line.split()[0] for line in OPS_TABLES[table].strip().split(",\n")]
