"""The load ledger, re-checked against the tables it describes.

`ops.load_ledger` is what each batch claimed when it committed. This module
does not trust it: it counts rows where they ended up (`raw.*` by `_batch_id`,
`ops.quarantine`, `ops.skipped_rows`, raw rows of origins superseded later)
and compares those counts with the rows *read*, which each extractor counted
from the source itself (data lines of a file, rows pulled, items of a page)
before parsing. A stream is `balanced` when

    read == loaded + quarantined + duplicate + superseded

holds with every term counted from the tables, and every batch's ledger agrees
with those counts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from extractors.contracts import StreamContract, all_sources
from extractors.sinks import Sink, open_sink, qualified
from ronghe.settings import Settings, load_settings

_MEASURES = ("read", "loaded", "quarantined", "duplicate", "superseded")


def _streams() -> list[StreamContract]:
    return [stream for source in all_sources() for stream in source.streams.values()]


def _grouped(sink: Sink, sql: str, params: tuple = ()) -> dict[Any, int]:
    return {
        row[0] if len(row) == 2 else tuple(row[:-1]): int(row[-1])
        for row in sink.fetch(sql, params)
    }


def _stream_counts(sink: Sink, stream: StreamContract) -> dict[str, dict[str, int]]:
    """Per batch id: rows counted in the tables for this stream."""
    per_batch: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_MEASURES, 0))
    key = (stream.source, stream.name)
    if sink.columns("raw", stream.raw_table):
        table = qualified("raw", stream.raw_table)
        for batch, n in _grouped(
            sink, f"SELECT _batch_id, count(*) FROM {table} GROUP BY 1"
        ).items():
            per_batch[batch]["loaded"] += n
        # Rows landed earlier and superseded later move from loaded to superseded,
        # booked on the batch that superseded them (as its ledger adjustment is).
        moved = _grouped(
            sink,
            f"SELECT r._batch_id, s.batch_id, count(*) FROM {table} r "
            "JOIN ops.superseded_origins s "
            "ON s.origin = r._origin AND s.source = ? AND s.stream = ? "
            "GROUP BY 1, 2",
            key,
        )
        for (_landed_in, superseded_in), n in moved.items():
            per_batch[superseded_in]["loaded"] -= n
            per_batch[superseded_in]["superseded"] += n
    for batch, n in _grouped(
        sink,
        "SELECT batch_id, count(*) FROM ops.quarantine WHERE source = ? AND stream = ? GROUP BY 1",
        key,
    ).items():
        per_batch[batch]["quarantined"] += n
    for (batch, disposition), n in _grouped(
        sink,
        "SELECT batch_id, disposition, count(*) FROM ops.skipped_rows "
        "WHERE source = ? AND stream = ? GROUP BY 1, 2",
        key,
    ).items():
        per_batch[batch][disposition] += n
    for batch, n in _grouped(
        sink,
        "SELECT batch_id, sum(read) FROM ops.load_ledger WHERE source = ? AND stream = ? "
        "GROUP BY 1",
        key,
    ).items():
        per_batch[batch]["read"] += n
    return per_batch


def _claimed(sink: Sink, stream: StreamContract) -> dict[str, dict[str, int]]:
    rows = sink.fetch(
        "SELECT batch_id, sum(read), sum(loaded), sum(quarantined), sum(duplicate), "
        "sum(superseded), "
        "sum(CASE WHEN read <> loaded + quarantined + duplicate + superseded THEN 1 ELSE 0 END) "
        "FROM ops.load_ledger WHERE source = ? AND stream = ? GROUP BY batch_id",
        (stream.source, stream.name),
    )
    return {
        row[0]: {
            **dict(zip(_MEASURES, (int(v) for v in row[1:6]), strict=True)),
            "bad_rows": int(row[6]),
        }
        for row in rows
    }


def check_ledger(sink: Sink) -> tuple[dict[str, dict[str, dict[str, Any]]], list[str]]:
    """The ledger per source and stream, and every discrepancy found (empty when all balance)."""
    report: dict[str, dict[str, dict[str, Any]]] = {}
    problems: list[str] = []
    has_ledger = bool(sink.columns("ops", "load_ledger"))
    for stream in _streams():
        if not has_ledger:
            continue
        counted = _stream_counts(sink, stream)
        claimed = _claimed(sink, stream)
        if not counted and not claimed:
            continue
        totals = dict.fromkeys(_MEASURES, 0)
        stream_ok = True
        for batch in sorted(set(counted) | set(claimed)):
            found = counted.get(batch, dict.fromkeys(_MEASURES, 0))
            said = claimed.get(batch)
            for measure in _MEASURES:
                totals[measure] += found[measure]
            where = f"{stream.source}.{stream.name} batch {batch}"
            if said is None:
                problems.append(f"{where}: rows in the tables but no ledger entry")
                stream_ok = False
                continue
            if said["bad_rows"]:
                problems.append(f"{where}: {said['bad_rows']} ledger rows do not add up")
                stream_ok = False
            for measure in _MEASURES:
                if said[measure] != found[measure]:
                    problems.append(
                        f"{where}: ledger says {measure} {said[measure]}, "
                        f"tables hold {found[measure]}"
                    )
                    stream_ok = False
            accounted = sum(found[m] for m in _MEASURES[1:])
            if found["read"] != accounted:
                problems.append(f"{where}: read {found['read']} but {accounted} rows accounted for")
                stream_ok = False
        balanced = stream_ok and totals["read"] == sum(totals[m] for m in _MEASURES[1:])
        report.setdefault(stream.source, {})[stream.name] = {**totals, "balanced": balanced}
    return report, problems


def ledger_report(settings: Settings | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """source -> stream -> read, loaded, quarantined, duplicate, superseded, balanced."""
    settings = settings or load_settings()
    if not settings.warehouse_is_postgres and not settings.warehouse_path.exists():
        return {}
    with open_sink(settings.warehouse, read_only=True) as sink:
        report, _ = check_ledger(sink)
    return report
