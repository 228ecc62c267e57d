"""Writing what became of a stream's rows: appended to raw, skipped, and the ledger.

The ledger is written per origin and must balance
(`read = loaded + quarantined + duplicate + superseded`) before anything commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from extractors.errors import LedgerImbalanceError
from extractors.raw_columns import ROW_ID, sql_literal
from extractors.sinks import qualified, quote

if TYPE_CHECKING:
    from extractors.stream_landing import StreamLanding

MEASURES = ("read", "loaded", "quarantined", "duplicate", "superseded")


@dataclass
class StreamTotals:
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicate: int = 0
    superseded: int = 0

    def add(self, other: StreamTotals) -> None:
        for name in MEASURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in MEASURES}


def append_loaded(stream: StreamLanding, valid: str, dispositions: str, origins: str) -> int:
    """Append the rows of `valid` whose disposition is `loaded` to the raw table; returns how
    many. The dispositions name rows by `ROW_ID`; most rows are loaded, so the few that are
    not are set aside (an anti join) rather than every row looked up."""
    b = stream.batch
    columns = stream.raw_table_columns()
    extras = dict(stream.contract.extras)
    select = []
    for name, kind in columns:
        if name == "_batch_id":
            select.append(f"{sql_literal(b.batch_id)} AS _batch_id")
        elif name == "_origin":
            select.append("o._origin AS _origin")
        elif name == "_loaded_at":
            select.append(f"TIMESTAMP '{b.loaded_at.isoformat(sep=' ')}' AS _loaded_at")
        elif name in extras:
            select.append(f"CAST(o.{quote(name)} AS {kind}) AS {quote(name)}")
        else:
            select.append(f"d.{quote(name)}")
    return b.sink.write(
        qualified("raw", stream.contract.raw_table),
        [name for name, _ in columns],
        f"SELECT {', '.join(select)} FROM {valid} d JOIN {origins} o USING (_ord) "
        f"ANTI JOIN (SELECT {ROW_ID} FROM {dispositions} WHERE _disposition <> 'loaded' "
        f"AND {ROW_ID} IS NOT NULL) s USING ({ROW_ID})",
    )


def write_skipped(stream: StreamLanding, dispositions: str, origins: str) -> None:
    """One `ops.skipped_rows` row per duplicate or superseded row, with why."""
    b = stream.batch
    b.write_ops(
        "skipped_rows",
        f"SELECT {sql_literal(b.batch_id)} AS batch_id, {sql_literal(b.source)} AS source, "
        f"{sql_literal(stream.name)} AS stream, o._origin AS origin, "
        f"d._origin_line AS origin_line, d._disposition AS disposition, d._detail AS detail "
        f"FROM {dispositions} d JOIN {origins} o USING (_ord) "
        f"WHERE d._disposition <> 'loaded' ORDER BY d._ord, d._origin_line",
    )


def write_ledger(
    stream: StreamLanding, dispositions: str, quarantined: str, origins: str
) -> StreamTotals:
    """Write the ledger per origin; raise `LedgerImbalanceError` when an origin does not balance."""
    b = stream.batch
    ledger = b.temp_name("ledger")
    b.staging.execute(
        f"""CREATE TEMP TABLE {ledger} AS
        SELECT o._ord, o._origin AS origin, o._read AS read,
               coalesce(d.loaded, 0) AS loaded, coalesce(q.n, 0) AS quarantined,
               coalesce(d.duplicate, 0) AS duplicate, coalesce(d.superseded, 0) AS superseded
        FROM {origins} o
        LEFT JOIN (SELECT _ord, count(*) FILTER (_disposition = 'loaded') AS loaded,
                          count(*) FILTER (_disposition = 'duplicate') AS duplicate,
                          count(*) FILTER (_disposition = 'superseded') AS superseded
                   FROM {dispositions} GROUP BY _ord) d USING (_ord)
        LEFT JOIN (SELECT _ord, count(*) AS n FROM {quarantined} GROUP BY _ord) q
          USING (_ord)"""
    )
    unbalanced = b.staging.execute(
        f"SELECT origin, read, loaded, quarantined, duplicate, superseded FROM {ledger} "
        f"WHERE read <> loaded + quarantined + duplicate + superseded ORDER BY _ord LIMIT 10"
    ).fetchall()
    if unbalanced:
        listed = "; ".join(
            f"{o}: read {r} != loaded {lo} + quarantined {q} + duplicate {d} + superseded {s}"
            for o, r, lo, q, d, s in unbalanced
        )
        raise LedgerImbalanceError(
            f"{stream.contract.source}.{stream.name}: rows read and rows accounted for differ, "
            f"so nothing was committed: {listed}"
        )
    b.write_ops(
        "load_ledger",
        f"SELECT {sql_literal(b.batch_id)} AS batch_id, {sql_literal(b.source)} AS source, "
        f"{sql_literal(stream.name)} AS stream, origin, 'landing' AS entry, read, loaded, "
        f"quarantined, duplicate, superseded FROM {ledger} ORDER BY _ord",
    )
    total = b.staging.execute(
        f"SELECT coalesce(sum(read), 0), coalesce(sum(loaded), 0), "
        f"coalesce(sum(quarantined), 0), coalesce(sum(duplicate), 0), "
        f"coalesce(sum(superseded), 0) FROM {ledger}"
    ).fetchone()
    return StreamTotals(*(int(v) for v in total))
