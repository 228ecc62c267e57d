"""ERP extractor: tables pulled through SQLAlchemy into `raw.erp_*` (contract: sources/erp.yml).

Works on any SQLAlchemy URL (the demo's SQLite file, PostgreSQL). Values are
selected as text (`CAST(col AS TEXT)`), i.e. as the database prints them.

- Streams with a `cursor` (`updated_at`, or `deleted_at` for `erp_deleted`) are
  pulled incrementally: rows with cursor >= watermark - lookback. The bound is
  inclusive and looks back because a row can be committed late with an
  `updated_at` equal to or just below the watermark; rows pulled again that
  equal their latest landed version count as duplicates, so the overlap costs
  a little reading and changes nothing.
- Streams without one (`erp_price`, `erp_campaign`) are read whole each run and
  only new or changed rows land.
- Hard deletes arrive through `erp_deleted` and land like any other table;
  staging applies them.
- A table missing, or missing a required column, is rejected (the run fails
  after landing the other tables); a new column is landed and reported as drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from extractors.contracts import StreamContract
from extractors.events import Progress, log_event
from extractors.landing import Batch, StreamLanding, open_batch
from extractors.raw_columns import text_value
from ronghe.settings import Settings, load_settings

CHUNK_ROWS = 50_000
DEFAULT_LOOKBACK_MINUTES = 30


def lower_bound(watermark: str, lookback: timedelta) -> str:
    """`watermark - lookback`, written the way the watermark is written (so text compares work)."""
    try:
        moment = datetime.fromisoformat(watermark.strip())
    except ValueError:
        raise ValueError(f"cannot read the stored watermark {watermark!r} as a date-time") from None
    earlier = moment - lookback
    separator = "T" if "T" in watermark else " "
    spec = "microseconds" if "." in watermark else "seconds"
    return earlier.isoformat(sep=separator, timespec=spec)


def _pull(conn: sa.Connection, batch: Batch, stream: StreamLanding, lookback: timedelta) -> None:
    contract: StreamContract = stream.contract
    table = contract.options["table"]
    origin = f"erp/{table}"
    inspector = sa.inspect(conn)
    if not inspector.has_table(table):
        batch.reject(stream.name, origin, f"the ERP has no table {table}")
        return
    columns = [column["name"] for column in inspector.get_columns(table)]
    missing = [name for name in contract.required_fields if name not in columns]
    if missing:
        batch.reject(stream.name, origin, f"required column(s) missing: {', '.join(missing)}")
        return
    preparer = conn.dialect.identifier_preparer
    selected = ", ".join(
        f"CAST({preparer.quote(c)} AS TEXT) AS {preparer.quote(c)}" for c in columns
    )
    key_order = ", ".join(preparer.quote(k) for k in contract.natural_key)
    sql = f"SELECT {selected} FROM {preparer.quote(table)}"
    params: dict[str, Any] = {}
    cursor = contract.options.get("cursor")
    watermark = batch.get_state(stream.name, "watermark") if cursor else None
    if cursor:
        if watermark is not None:
            sql += f" WHERE {preparer.quote(cursor)} >= :lower"
            params["lower"] = lower_bound(watermark, lookback)
            _warn_unreachable(conn, preparer.quote(table), preparer.quote(cursor), stream.name)
        sql += f" ORDER BY {preparer.quote(cursor)}, {key_order}"
    else:
        sql += f" ORDER BY {key_order}"
    ord_ = stream.add_origin(origin, 0)
    stream.check_columns(ord_, columns)
    progress = Progress("erp", stream.name, 1)
    newest: tuple[datetime, str] | None = None
    result = conn.execution_options(stream_results=True).execute(sa.text(sql), params)
    names = list(result.keys())
    for chunk in result.partitions(CHUNK_ROWS):
        values = dict(zip(names, zip(*chunk, strict=True), strict=True))
        stream.add_text_columns(
            ord_,
            {name: _text_array(column) for name, column in values.items()},
            first_line=stream.origins[ord_].read + 1,
        )
        stream.add_read(ord_, len(chunk))
        progress.advance(rows=len(chunk))
        if cursor:
            newest = _newest(values[cursor], newest)
    progress.advance(files=1)
    progress.done()
    if newest is not None:
        batch.set_state(stream.name, "watermark", newest[1])


def _text_array(values: Sequence[Any]) -> pa.Array:
    """A column selected as text; a driver handing back other types gets them as raw text."""
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([text_value(v) for v in values], pa.string())


def _newest(
    values: Sequence[str | None], newest: tuple[datetime, str] | None
) -> tuple[datetime, str] | None:
    for value in values:
        if value is None:
            continue
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            continue  # quarantined by the contract check; it cannot move the watermark
        if newest is None or moment > newest[0]:
            newest = (moment, value)
    return newest


def _warn_unreachable(conn: sa.Connection, table: str, cursor: str, stream: str) -> None:
    """Rows without a cursor value cannot be pulled incrementally; say so loudly."""
    count = conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {cursor} IS NULL")).scalar()
    if count:
        log_event(
            "rows_without_cursor",
            stream=stream,
            rows=count,
            note="only a full pull (reset the watermark) reads them; they were quarantined then",
        )


def erp_engine(url: str) -> sa.Engine:
    """An engine for the ERP URL; a bare `postgresql://` uses psycopg2, the driver we ship."""
    parsed = sa.engine.make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return sa.create_engine(parsed)


def extract_erp(settings: Settings | None = None) -> dict[str, Any]:
    """Pull the ERP tables; returns the batch's counts (small, for XCom)."""
    settings = settings or load_settings()
    if not settings.erp_url:
        raise RuntimeError("RONGHE_ERP_URL is not set (nor RONGHE_SOURCES_DIR for the demo ERP)")
    engine = erp_engine(settings.erp_url)
    try:
        with open_batch("erp", settings) as batch, engine.connect() as conn:
            minutes = batch.contract.options.get("lookback_minutes", DEFAULT_LOOKBACK_MINUTES)
            lookback = timedelta(minutes=float(minutes))
            for name in batch.contract.streams:
                _pull(conn, batch, batch.stream(name), lookback)
    finally:
        engine.dispose()
    return batch.result
