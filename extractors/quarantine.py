"""Rows that fail a stream's contract, written to `ops.quarantine` with their raw text.

A row lands here with the reason it failed and the exact text it arrived as
(looked up from the file when the stream staged it without its text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from extractors.raw_columns import sql_literal
from extractors.sinks import quote

if TYPE_CHECKING:
    from extractors.stream_landing import StreamLanding


def write_quarantine(stream: StreamLanding, checked: str, origins: str) -> tuple[str, str | None]:
    """Quarantine the failed rows of staging table `checked`.

    Returns the staging table of quarantined rows and, for `dedup: versions`,
    the table of bad rows read again (`_ord`, `_origin_line`, `_detail`), which
    count as duplicates instead (None otherwise).
    """
    b = stream.batch
    pre = b.stage_arrow(
        pa.table(
            {
                "_ord": pa.array([q[0] for q in stream.prequarantine], pa.int32()),
                "_origin_line": pa.array([q[1] for q in stream.prequarantine], pa.int64()),
                "_raw": pa.array([q[2] for q in stream.prequarantine], pa.string()),
                "_why": pa.array([q[3] for q in stream.prequarantine], pa.string()),
            }
        )
    )
    rows = b.temp_name("quarantine")
    b.staging.execute(
        f"CREATE TEMP TABLE {rows} AS SELECT _ord, _origin_line, _raw, _why FROM {checked} "
        f"WHERE _why IS NOT NULL UNION ALL SELECT * FROM {pre}"
    )
    missing = b.staging.execute(
        f"SELECT _ord, _origin_line FROM {rows} WHERE _raw IS NULL AND _origin_line IS NOT NULL"
    ).fetchall()
    if missing and stream.raw_text_lookup is not None:
        texts = stream.raw_text_lookup(missing)
        found = b.stage_arrow(
            pa.table(
                {
                    "_ord": pa.array([k[0] for k in texts], pa.int32()),
                    "_origin_line": pa.array([k[1] for k in texts], pa.int64()),
                    "_text": pa.array(list(texts.values()), pa.string()),
                }
            )
        )
        b.staging.execute(
            f"UPDATE {rows} SET _raw = f._text FROM {found} f "
            f"WHERE {rows}._ord = f._ord AND {rows}._origin_line = f._origin_line"
        )
    repeats = None
    if stream.contract.dedup == "versions":
        rows, repeats = _set_aside_repeats(stream, rows, origins)
    b.write_ops(
        "quarantine",
        f"SELECT {sql_literal(b.batch_id)} AS batch_id, {sql_literal(b.source)} AS source, "
        f"{sql_literal(stream.name)} AS stream, o._origin AS origin, "
        f"q._origin_line AS origin_line, q._why AS reason, q._raw AS raw_text "
        f"FROM {rows} q JOIN {origins} o USING (_ord) ORDER BY o._ord, q._origin_line",
    )
    return rows, repeats


def _set_aside_repeats(stream: StreamLanding, rows: str, origins: str) -> tuple[str, str]:
    """`dedup: versions`: a bad row read again (same raw text) is a duplicate, not quarantined
    twice, so re-reading a change feed from an earlier watermark changes nothing.
    Returns the rows still to quarantine and the repeats (which join the dispositions)."""
    b = stream.batch
    wh_texts = b.temp_name("wh_quarantine_texts")
    b.sink.to_warehouse_temp(f"SELECT DISTINCT _raw FROM {rows} WHERE _raw IS NOT NULL", wh_texts)
    earlier = b.temp_name("quarantined_before")
    b.sink.to_staging(
        f"SELECT q.raw_text, min(q.batch_id) AS batch_id FROM ops.quarantine q "
        f"JOIN {quote(wh_texts)} t ON q.raw_text = t._raw "
        f"WHERE q.source = {sql_literal(b.source)} AND q.stream = {sql_literal(stream.name)} "
        f"GROUP BY q.raw_text",
        earlier,
    )
    flagged = b.temp_name("quarantine_flagged")
    b.staging.execute(
        f"""CREATE TEMP TABLE {flagged} AS
        SELECT q._ord, q._origin_line, q._raw, q._why,
          CASE WHEN e.batch_id IS NOT NULL THEN 'already quarantined in ' || e.batch_id
               WHEN q._seen > 1
                 THEN 'repeats quarantined ' || q._first_origin || ' line ' || q._first_line
          END AS _repeat
        FROM (SELECT r.*, row_number() OVER w AS _seen,
                     first_value(o._origin) OVER w AS _first_origin,
                     first_value(r._origin_line) OVER w AS _first_line
              FROM {rows} r JOIN {origins} o USING (_ord)
              WINDOW w AS (PARTITION BY r._raw ORDER BY r._ord, r._origin_line)) q
        LEFT JOIN {quote(earlier)} e ON e.raw_text = q._raw"""
    )
    fresh = b.temp_name("quarantine_fresh")
    b.staging.execute(
        f"CREATE TEMP TABLE {fresh} AS SELECT _ord, _origin_line, _raw, _why FROM {flagged} "
        f"WHERE _raw IS NULL OR _repeat IS NULL"
    )
    repeats = b.temp_name("quarantine_repeats")
    b.staging.execute(
        f"CREATE TEMP TABLE {repeats} AS SELECT _ord, _origin_line, "
        f"_repeat AS _detail FROM {flagged} WHERE _raw IS NOT NULL AND _repeat IS NOT NULL"
    )
    return fresh, repeats
