"""Committing a batch: land every stream, then record what the batch knows beside the rows.

`finish(batch)` runs inside the batch's one warehouse transaction. It flushes
every stream, books ledger adjustments for deliveries landed earlier and
replaced now, writes delivery manifests, the file registry, extraction state,
schema drift, rejected and deferred deliveries, control totals and the
`ops.load_batches` row. It returns False when the batch would change nothing,
and the caller then rolls back: a re-run for the same interval leaves the
warehouse as it was.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pyarrow as pa

from extractors.batch import Batch
from extractors.errors import LandingError
from extractors.events import log_event
from extractors.raw_columns import METADATA_COLUMNS, sql_literal
from extractors.row_outcomes import StreamTotals
from extractors.sinks import qualified, quote


def finish(batch: Batch) -> bool:
    """Land everything; return False when the batch changed nothing (then roll back)."""
    totals = StreamTotals()
    per_stream: dict[str, dict[str, int]] = {}
    rejected = {origin for _, origin, _ in batch.rejections}
    for stream in batch.streams.values():
        if any(o.origin in rejected and not o.withdrawn for o in stream.origins):
            raise LandingError(f"{batch.source}.{stream.name}: a rejected origin was also staged")
        started = time.monotonic()
        stream.flush()
        stream_totals = stream.totals
        log_event(
            "stream_landed",
            source=batch.source,
            stream=stream.name,
            seconds=round(time.monotonic() - started, 2),
            **stream_totals.as_dict(),
        )
        totals.add(stream_totals)
        per_stream[stream.name] = stream_totals.as_dict()
    adjustments = _land_superseded_landed(batch)
    totals.loaded += adjustments.loaded
    totals.superseded += adjustments.superseded
    manifests = _write_manifests(batch)
    state_changed = {
        key: value
        for key, value in batch.state_changes.items()
        if batch.stored_state.get(key) != value
    }
    deferrals = _new_deferrals(batch)
    changed = any(
        (
            totals.loaded,
            totals.quarantined,
            totals.superseded,
            adjustments.superseded,
            manifests,
            batch.files_to_register,
            state_changed,
            batch.drift_notes,
            batch.rejections,
            deferrals,
            batch.control_total_rows,
            batch.raw_table_changes,
        )
    )
    batch.result = {
        "source": batch.source,
        "batch_id": batch.batch_id if changed else None,
        "committed": changed,
        "files": len(batch.files_to_register),
        **totals.as_dict(),
        "rejected": len(batch.rejections),
        "deferred": len(batch.deferrals),
        "streams": per_stream,
    }
    if not changed:
        return False
    _write_records(batch, state_changed, deferrals, totals)
    return True


def _write_records(
    batch: Batch,
    state_changed: dict[tuple[str, str], str | None],
    deferrals: list[tuple[str | None, str, str]],
    totals: StreamTotals,
) -> None:
    batch.write_ops_rows(
        "file_registry",
        [
            (
                f.path,
                f.sha256,
                f.size_bytes,
                f.mtime_ns,
                batch.source,
                stream,
                disposition,
                batch.batch_id,
            )
            for f, stream, disposition in batch.files_to_register
        ],
    )
    for (stream, name), value in state_changed.items():
        batch.sink.execute(
            "DELETE FROM ops.extract_state WHERE source = ? AND stream = ? AND name = ?",
            (batch.source, stream, name),
        )
        batch.sink.execute(
            "INSERT INTO ops.extract_state VALUES (?, ?, ?, ?, ?)",
            (batch.source, stream, name, value, batch.batch_id),
        )
    batch.write_ops_rows(
        "schema_drift",
        [
            (batch.batch_id, batch.source, stream, origin, column, change)
            for (stream, origin, column), change in batch.drift_notes.items()
        ],
    )
    batch.write_ops_rows(
        "rejected_deliveries",
        [(batch.batch_id, batch.source, s, o, r) for s, o, r in batch.rejections],
    )
    batch.write_ops_rows(
        "deferred_deliveries",
        [(batch.batch_id, batch.source, s, o, r) for s, o, r in deferrals],
    )
    batch.write_ops_rows(
        "control_totals",
        [(batch.batch_id, batch.source, *row) for row in batch.control_total_rows],
    )
    batch.sink.execute(
        "INSERT INTO ops.load_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            batch.batch_id,
            batch.source,
            batch.seq,
            batch.sink.engine,
            batch.loaded_at,
            datetime.now(UTC).replace(tzinfo=None),
            len(batch.files_to_register),
            totals.read,
            totals.loaded,
            totals.quarantined,
            totals.duplicate,
            totals.superseded,
            len(batch.rejections),
        ),
    )


def _new_deferrals(batch: Batch) -> list[tuple[str | None, str, str]]:
    """Deferred deliveries not yet recorded with the same reason: a delivery still waiting
    is recorded once, so re-running while it waits changes nothing."""
    if not batch.deferrals:
        return []
    recorded = {
        (origin, reason)
        for origin, reason in batch.sink.fetch(
            "SELECT origin, reason FROM ops.deferred_deliveries WHERE source = ?",
            (batch.source,),
        )
    }
    return [d for d in dict.fromkeys(batch.deferrals) if (d[1], d[2]) not in recorded]


def _land_superseded_landed(batch: Batch) -> StreamTotals:
    totals = StreamTotals()
    for stream_name, replaced in batch.superseded_landed.items():
        stream = batch.stream(stream_name)
        table = qualified("raw", stream.contract.raw_table)
        if not batch.sink.columns("raw", stream.contract.raw_table):
            continue
        listed = batch.stage_arrow(
            pa.table({"origin": list(replaced), "superseded_by": list(replaced.values())})
        )
        wh = batch.temp_name("wh_superseded")
        batch.sink.to_warehouse_temp(f"SELECT * FROM {listed}", wh)
        counts = batch.sink.fetch(
            f"SELECT r._origin, count(*) FROM {table} r "
            f"JOIN {quote(wh)} s ON r._origin = s.origin "
            f"WHERE NOT EXISTS (SELECT 1 FROM ops.superseded_origins so WHERE so.source = ? "
            "AND so.stream = ? AND so.origin = r._origin) "
            "GROUP BY r._origin ORDER BY r._origin",
            (batch.source, stream_name),
        )
        ledger, records = [], []
        for origin, rows in counts:
            by = replaced[origin]
            records.append((batch.batch_id, batch.source, stream_name, origin, by, rows))
            moved = StreamTotals(loaded=-rows, superseded=rows).as_dict().values()
            ledger.append((batch.batch_id, batch.source, stream_name, origin, "adjustment", *moved))
            totals.loaded -= rows
            totals.superseded += rows
        batch.write_ops_rows("superseded_origins", records)
        batch.write_ops_rows("load_ledger", ledger)
    return totals


def _write_manifests(batch: Batch) -> int:
    written = 0
    for table, (columns, records) in batch.manifests.items():
        all_columns = [*columns, *METADATA_COLUMNS]
        batch.ensure_raw_table(table, all_columns)
        data = {}
        for name, kind in columns:
            values = [r.get(name) for r in records]
            data[name] = pa.array(
                values, pa.int64() if kind in {"INTEGER", "BIGINT"} else pa.string()
            )
        data["_origin"] = pa.array([r["_origin"] for r in records], pa.string())
        staged = batch.stage_arrow(pa.table(data))
        select = [quote(name) for name, _ in columns] + [
            f"{sql_literal(batch.batch_id)} AS _batch_id",
            "_origin",
            "CAST(NULL AS BIGINT) AS _origin_line",
            f"TIMESTAMP '{batch.loaded_at.isoformat(sep=' ')}' AS _loaded_at",
        ]
        written += batch.sink.write(
            qualified("raw", table),
            [name for name, _ in all_columns],
            f"SELECT {', '.join(select)} FROM {staged}",
        )
    return written
