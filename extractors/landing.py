"""The landing framework: every extractor writes `raw.*` and `ops.*` through a batch.

A *batch* is one extraction run of one source, committed as ONE warehouse
transaction: raw rows, quarantine, ledger, file registry, extraction state,
schema drift and rejected deliveries. A crash (even SIGKILL) before the commit
leaves nothing behind, so the re-run does exactly what the crashed run would
have done (batch ids are numbered per source from the committed batches, so the
re-run even gets the same id). A batch that would change nothing (no new rows,
files, state, drift or rejections) is rolled back: re-running an extraction for
the same interval leaves the warehouse as it was.

How an extractor uses it::

    from extractors.landing import open_batch

    def extract_things(settings=None) -> dict:
        with open_batch("things", settings) as batch:        # reads sources/things.yml
            stream = batch.stream("orders")
            since = batch.get_state("orders", "updated_since")
            for page in fetch_pages(since):                    # the extractor's own I/O
                origin = stream.add_origin(page.request, read=len(page.items))
                stream.add_records(origin, page.items, raw_texts=page.item_texts)
            batch.set_state("orders", "updated_since", new_since)
        return batch.result                                    # small dict for XCom

- `stream.add_origin(origin, read, extras)` names where rows came from (a path
  relative to SOURCES_DIR, `erp/<table>`, or the API request) and how many rows
  were read there, counted independently of parsing (lines in the file, items
  in the page). It returns the origin's number, used by the calls below.
- Rows arrive as `stream.add_records(origin, records)` (dicts; values are
  turned into text without changing them: `Decimal` keeps its digits, booleans
  become `true`/`false`, nested values compact JSON) or, for bulk files, as
  `stream.add_rows(staging_sql)`: a query on `batch.staging` (DuckDB) yielding
  `_ord` (origin number), `_origin_line`, field columns as VARCHAR, and
  optionally `_raw` (the row's raw text) and `_reason` (why it is already known
  to be bad). `stream.quarantine(...)` takes a row rejected before parsing.
- `stream.check_columns(origin, columns)` compares a delivery's columns to the
  contract: new columns are kept (added to the raw table as VARCHAR) and
  recorded in `ops.schema_drift`; it returns the missing required columns, and
  the extractor then calls `batch.reject(origin, reason)` for the delivery
  (nothing of it is landed or registered; the run fails after committing the
  rest, naming every rejected delivery).
- `batch.register_file(facts, stream)` records a file as landed;
  `batch.registered_files()` says what was landed before.
- `stream.flush()` lands what is staged so far, inside the same transaction,
  and frees its staging: a big stream calls it every few million rows so
  memory stays bounded (later rows still deduplicate against these).
- `stream.supersede(origin, by)` marks an origin of this batch as replaced by
  a later delivery (its rows count as `superseded`, none is appended);
  `batch.supersede_landed(stream, origin, by)` does the same for an origin an
  earlier batch landed (recorded as a ledger adjustment, raw stays append-only).

At commit every stream is validated against its contract (required values,
types), exact duplicates are set aside, rows are appended, and the ledger is
written per origin. Ledger semantics, which `extractors.ledger` re-checks from
the tables themselves:

- `read`: rows the source delivered, counted when reading (data lines of a
  file, not its header, blank lines or a vendor's summary line; items of a page).
- `quarantined`: rows that failed the contract, in `ops.quarantine` with the
  raw text and the reason.
- `duplicate`: a row equal (same natural key, same content) to one read earlier
  in the same origin (`dedup: origin`), or to the previous version of that key in
  this batch or the latest version already landed (`dedup: history`), or to
  any version of that key read earlier in this batch or landed before
  (`dedup: versions`, for change feeds read again from an inclusive watermark,
  where two versions can share a key and arrive in any order); listed in
  `ops.skipped_rows`. A changed row under an existing key is a new version and
  is landed: raw keeps every version.
- `superseded`: rows of a delivery replaced whole by a later one.
- `loaded`: appended to `raw.<table>`.

A batch whose ledger does not balance is not committed.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from extractors.contracts import SourceContract, StreamContract, load_source, type_check_sql
from extractors.events import log_event
from extractors.ops_tables import ensure_ops_schema, ops_columns
from extractors.sinks import Sink, open_sink, qualified, quote
from ronghe.settings import Settings, load_settings

METADATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_batch_id", "VARCHAR"),
    ("_origin", "VARCHAR"),
    ("_origin_line", "BIGINT"),
    ("_loaded_at", "TIMESTAMP"),
)
ROW_HASH_COLUMN = "_row_hash"
_TEMP_NAME = re.compile(r"_stg_(\d+)_")
RESERVED_COLUMNS = frozenset(
    {name for name, _ in METADATA_COLUMNS}
    | {ROW_HASH_COLUMN, "_ord", "_origin_line", "_raw", "_reason", "_why", "_read"}
    | {"_disposition", "_detail", "_superseded_by", "_exact_path", "_exact_file", "_valid"}
    | {"_object"}
)
"""Names used by the framework's own columns; a source column may not carry one."""
"""63 bits of the MD5 of a row's source fields (a BIGINT both engines store compactly), kept
on `history`/`versions` tables to find landed versions; versions are only ever compared under
the same natural key, where a collision is out of reach."""


class LandingError(RuntimeError):
    """A batch could not be landed; nothing of it was committed."""


class LedgerImbalanceError(LandingError):
    """Rows read and rows accounted for differ for some origin; the batch was rolled back."""


class RejectedDeliveriesError(RuntimeError):
    """Some deliveries were refused; everything else of the batch was committed."""

    def __init__(self, source: str, rejections: Sequence[tuple[str | None, str, str]]):
        self.source = source
        self.rejections = list(rejections)
        listed = "\n".join(f"  - {origin}: {reason}" for _, origin, reason in rejections)
        super().__init__(
            f"{source}: {len(rejections)} deliveries were rejected and not landed "
            f"(they are retried on the next run once fixed):\n{listed}"
        )


@dataclass(frozen=True)
class FileFacts:
    """A file as the registry knows it; `path` is relative to SOURCES_DIR."""

    path: str
    sha256: str
    size_bytes: int
    mtime_ns: int


@dataclass
class _Origin:
    ord: int
    origin: str
    read: int
    extras: dict[str, Any]
    superseded_by: str | None = None
    withdrawn: bool = False


@dataclass
class StreamTotals:
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicate: int = 0
    superseded: int = 0

    def add(self, other: StreamTotals) -> None:
        for name in ("read", "loaded", "quarantined", "duplicate", "superseded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "duplicate": self.duplicate,
            "superseded": self.superseded,
        }


def text_value(value: Any) -> str | None:
    """A source value as raw text, without changing what it says."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class StreamLanding:
    """The rows one batch lands for one stream (see the module docstring)."""

    def __init__(self, batch: Batch, contract: StreamContract) -> None:
        self.batch = batch
        self.contract = contract
        self.origins: list[_Origin] = []
        self.drift_columns: list[str] = []
        """Columns beyond the contract seen in this batch, in order of discovery."""
        self._row_sources: list[str] = []
        self._prequarantine: list[tuple[int, int | None, str | None, str]] = []
        self._raw_text_lookup: Any = None
        self._quarantine_repeats: str | None = None
        self.totals = StreamTotals()
        self._flushed = 0
        """Origins before this index were landed by an earlier `flush`."""

    @property
    def name(self) -> str:
        return self.contract.name

    def add_origin(self, origin: str, read: int, extras: Mapping[str, Any] | None = None) -> int:
        """Register an origin and the rows read from it; returns its number."""
        ord_ = len(self.origins)
        self.origins.append(_Origin(ord_, origin, int(read), dict(extras or {})))
        return ord_

    def add_read(self, ord_: int, rows: int) -> None:
        """Count more rows read from an origin (for sources read in chunks)."""
        self.origins[ord_].read += rows

    def add_rows(self, staging_sql: str) -> None:
        """Rows from a staging query: `_ord`, `_origin_line`, fields, optional `_raw`, `_reason`."""
        self._row_sources.append(staging_sql)

    def add_records(
        self,
        ord_: int,
        records: Sequence[Mapping[str, Any]],
        first_line: int = 1,
        raw_texts: Sequence[str] | None = None,
        lines: Sequence[int] | None = None,
    ) -> None:
        """Rows given as mappings (ERP rows, API objects), numbered from `first_line`
        (or by `lines`); `raw_texts` are kept for quarantine (default: the record as JSON)."""
        if not records:
            return
        names: list[str] = []
        for record in records:
            for key in record:
                if key not in names:
                    names.append(key)
        self.check_columns(ord_, names, record_level=True)
        columns: dict[str, list[Any]] = {name: [] for name in names}
        for record in records:
            for name in names:
                columns[name].append(text_value(record.get(name)))
        table = {
            "_ord": pa.array([ord_] * len(records), pa.int32()),
            "_origin_line": pa.array(
                lines if lines is not None else range(first_line, first_line + len(records)),
                pa.int64(),
            ),
            **{name: pa.array(values, pa.string()) for name, values in columns.items()},
            "_raw": pa.array(
                list(raw_texts)
                if raw_texts is not None
                else [text_value(dict(record)) for record in records],
                pa.string(),
            ),
        }
        self._row_sources.append(f"SELECT * FROM {self.batch.stage_arrow(pa.table(table))}")

    def quarantine(self, ord_: int, line: int | None, raw_text: str | None, reason: str) -> None:
        """A row that could not even be parsed (undecodable bytes, not JSON...)."""
        self._prequarantine.append((ord_, line, raw_text, reason))

    def violations(self, records: Sequence[Mapping[str, Any]]) -> list[str | None]:
        """Why each record breaks the contract (None where it does not), by the commit's checks.

        For objects whose rows span several streams (an order, its items, its
        coupons): the extractor quarantines the object whole, in every stream.
        """
        table = pa.table(
            {
                "_i": pa.array(range(len(records)), pa.int64()),
                "_reason": pa.nulls(len(records), pa.string()),
                **{
                    name: pa.array([text_value(r.get(name)) for r in records], pa.string())
                    for name in self.contract.field_names
                },
            }
        )
        self.batch.staging.register("_violations_in", table)
        try:
            rows = self.batch.staging.execute(
                f"SELECT {self._reason_sql()} FROM _violations_in ORDER BY _i"
            ).fetchall()
        finally:
            self.batch.staging.unregister("_violations_in")
        return [row[0] for row in rows]

    def set_raw_text_lookup(self, lookup: Any) -> None:
        """`lookup(list of (ord, line)) -> {(ord, line): text}` for rows staged without `_raw`."""
        self._raw_text_lookup = lookup

    def check_columns(
        self, ord_: int, columns: Sequence[str], record_level: bool = False
    ) -> list[str]:
        """Record drift for a delivery's columns; return the required columns it lacks.

        With `record_level` (rows that each carry their own keys, like JSON
        objects), a field absent from every row is not drift: its rows are
        checked one by one instead.
        """
        declared = self.contract.field_names
        origin = self.origins[ord_].origin
        reserved = RESERVED_COLUMNS | {name for name, _ in self.contract.extras}
        clashing = [c for c in columns if c in reserved]
        if clashing:
            raise LandingError(
                f"{origin}: the source has column(s) {clashing} whose names the landing "
                "framework reserves; map them to other names in the contract first"
            )
        for column in columns:
            if column not in declared:
                if column not in self.drift_columns:
                    self.drift_columns.append(column)
                self.batch.note_drift(self.name, origin, column, "added")
        present = set(columns)
        missing_required = [f for f in self.contract.required_fields if f not in present]
        if not record_level:
            for name in declared:
                if name not in present and name not in missing_required:
                    self.batch.note_drift(self.name, origin, name, "missing")
        return [] if record_level else missing_required

    def withdraw(self, ord_: int) -> None:
        """Take an origin out of the batch (its delivery is rejected): nothing of it lands."""
        origin = self.origins[ord_]
        origin.withdrawn = True
        self.batch.forget_drift(self.name, origin.origin)

    def supersede(self, ord_: int, by: str) -> None:
        """This origin's rows are replaced by a later delivery; none of them is appended."""
        self.origins[ord_].superseded_by = by

    # -- landing at commit ---------------------------------------------------------

    @property
    def _columns(self) -> list[str]:
        return list(self.contract.field_names) + self.drift_columns

    def _raw_table_columns(self) -> list[tuple[str, str]]:
        columns = [(name, "VARCHAR") for name in self._columns]
        columns += list(self.contract.extras) + list(METADATA_COLUMNS)
        if self.contract.dedup in ("history", "versions"):
            columns.append((ROW_HASH_COLUMN, "BIGINT"))
        return columns

    def _land(self) -> StreamTotals:
        """Validate, dedupe and append this stream's rows; write its ledger; return totals."""
        b = self.batch
        contract = self.contract
        b.ensure_raw_table(contract.raw_table, self._raw_table_columns())
        origins = b.stage_arrow(self._origins_table())
        # One materialisation: every row with why it fails the contract (NULL if it
        # does not) and the hash of its content (used only for the rows that pass).
        checked = b.temp_name("checked")
        b.staging.execute(
            f"CREATE TEMP TABLE {checked} AS SELECT r.*, {self._reason_sql()} AS _why, "
            f"{self._row_hash_sql()} AS {ROW_HASH_COLUMN} FROM {self._rows_sql()} r"
        )
        quarantined = self._write_quarantine(checked, origins)
        hashed = f"(SELECT * FROM {checked} WHERE _why IS NULL)"
        dispositions = self._dispositions(hashed, origins)
        if self._quarantine_repeats is not None:
            b.staging.execute(
                f"INSERT INTO {dispositions} BY NAME SELECT _ord, _origin_line, "
                f"'duplicate' AS _disposition, _detail FROM {self._quarantine_repeats}"
            )
        loaded = self._append(dispositions, origins)
        self._write_skipped(dispositions, origins)
        totals = self._write_ledger(dispositions, quarantined, origins)
        if totals.loaded != loaded:
            raise LedgerImbalanceError(
                f"{contract.source}.{self.name}: appended {loaded} rows but the ledger counts "
                f"{totals.loaded}"
            )
        return totals

    def flush(self) -> StreamTotals:
        """Land the rows staged so far, inside the batch's one transaction, and free their
        staging. A big stream calls this every few million rows to bound memory; rows staged
        later are deduplicated against these as against any landed version."""
        first_temp = self.batch.temp_counter
        landed = self._land()
        self.totals.add(landed)
        self._row_sources, self._prequarantine = [], []
        self._raw_text_lookup = None
        self._quarantine_repeats = None
        self._flushed = len(self.origins)
        self.batch.release_staging(first_temp)
        return landed

    def _origins_table(self) -> pa.Table:
        extras = [name for name, _ in self.contract.extras]
        origins = [o for o in self.origins[self._flushed :] if not o.withdrawn]
        data: dict[str, pa.Array] = {
            "_ord": pa.array([o.ord for o in origins], pa.int32()),
            "_origin": pa.array([o.origin for o in origins], pa.string()),
            "_read": pa.array([o.read for o in origins], pa.int64()),
            "_superseded_by": pa.array([o.superseded_by for o in origins], pa.string()),
        }
        for name in extras:
            data[name] = pa.array([text_value(o.extras.get(name)) for o in origins], pa.string())
        return pa.table(data)

    def _rows_sql(self) -> str:
        """All staged rows as one query with the same columns (absent ones NULL)."""
        b = self.batch
        wanted = [*self._columns, "_raw", "_reason"]
        parts = []
        for source in self._row_sources:
            present = {row[0] for row in b.staging.execute(f"DESCRIBE {source}").fetchall()}
            columns = [
                quote(c) if c in present else f"CAST(NULL AS VARCHAR) AS {quote(c)}" for c in wanted
            ]
            parts.append(
                "SELECT CAST(_ord AS INTEGER) AS _ord, "
                "CAST(_origin_line AS BIGINT) AS _origin_line, "
                f"{', '.join(columns)} FROM ({source})"
            )
        if not parts:
            empty = ", ".join(f"CAST(NULL AS VARCHAR) AS {quote(c)}" for c in wanted)
            parts.append(
                f"SELECT CAST(NULL AS INTEGER) AS _ord, CAST(NULL AS BIGINT) AS _origin_line, "
                f"{empty} WHERE false"
            )
        return "(" + " UNION ALL ".join(parts) + ")"

    def _reason_sql(self) -> str:
        """Why a row fails the contract, or NULL. The reasons are spelled out only for rows
        that fail the plain boolean test first (building them for every row is slow)."""
        passes, reasons = [], []
        for f in self.contract.fields:
            col = quote(f.name)
            empty = f"({col} IS NULL OR trim({col}) = '')"
            if f.required:
                passes.append(f"NOT {empty}")
                reasons.append(f"CASE WHEN {empty} THEN 'required field {f.name} is empty' END")
            if f.type != "string":
                valid = type_check_sql(f.type, col)
                passes.append(f"({empty} OR ({valid}))")
                reasons.append(
                    f"CASE WHEN NOT {empty} AND NOT ({valid}) THEN "
                    f"'field {f.name} = ' || {col} || ' does not parse as {f.type}' END"
                )
        if not passes:
            return "_reason"
        return (
            f"CASE WHEN _reason IS NULL AND {' AND '.join(passes)} THEN NULL "
            f"ELSE coalesce(_reason, nullif(concat_ws('; ', {', '.join(reasons)}), '')) END"
        )

    def _row_hash_sql(self) -> str:
        # Columns in name order, NULLs contributing nothing: a column the source
        # adds later changes the hash only where it carries a value.
        parts = [
            f"CASE WHEN {quote(c)} IS NULL THEN '' ELSE {_sql_literal(c)} || chr(31) || "
            f"{quote(c)} || chr(30) END"
            for c in sorted(self._columns)
        ]
        return f"CAST(md5_number_lower(concat({', '.join(parts)})) >> 1 AS BIGINT)"

    def _write_quarantine(self, checked: str, origins: str) -> str:
        b = self.batch
        pre = b.stage_arrow(
            pa.table(
                {
                    "_ord": pa.array([q[0] for q in self._prequarantine], pa.int32()),
                    "_origin_line": pa.array([q[1] for q in self._prequarantine], pa.int64()),
                    "_raw": pa.array([q[2] for q in self._prequarantine], pa.string()),
                    "_why": pa.array([q[3] for q in self._prequarantine], pa.string()),
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
        if missing and self._raw_text_lookup is not None:
            texts = self._raw_text_lookup(missing)
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
        if self.contract.dedup == "versions":
            rows = self._set_aside_quarantine_repeats(rows, origins)
        b.write_ops(
            "quarantine",
            f"SELECT {_sql_literal(b.batch_id)} AS batch_id, {_sql_literal(b.source)} AS source, "
            f"{_sql_literal(self.name)} AS stream, o._origin AS origin, "
            f"q._origin_line AS origin_line, q._why AS reason, q._raw AS raw_text "
            f"FROM {rows} q JOIN {origins} o USING (_ord) ORDER BY o._ord, q._origin_line",
        )
        return rows

    def _set_aside_quarantine_repeats(self, rows: str, origins: str) -> str:
        """`dedup: versions`: a bad row read again (same raw text) is a duplicate, not quarantined
        twice, so re-reading a change feed from an earlier watermark changes nothing.
        Returns the rows still to quarantine; the repeats join the dispositions."""
        b = self.batch
        wh_texts = b.temp_name("wh_quarantine_texts")
        b.sink.to_warehouse_temp(
            f"SELECT DISTINCT _raw FROM {rows} WHERE _raw IS NOT NULL", wh_texts
        )
        earlier = b.temp_name("quarantined_before")
        b.sink.to_staging(
            f"SELECT q.raw_text, min(q.batch_id) AS batch_id FROM ops.quarantine q "
            f"JOIN {quote(wh_texts)} t ON q.raw_text = t._raw "
            f"WHERE q.source = {_sql_literal(b.source)} AND q.stream = {_sql_literal(self.name)} "
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
        self._quarantine_repeats = b.temp_name("quarantine_repeats")
        b.staging.execute(
            f"CREATE TEMP TABLE {self._quarantine_repeats} AS SELECT _ord, _origin_line, "
            f"_repeat AS _detail FROM {flagged} WHERE _raw IS NOT NULL AND _repeat IS NOT NULL"
        )
        return fresh

    def _dispositions(self, hashed: str, origins: str) -> str:
        b = self.batch
        key = ", ".join(quote(k) for k in self.contract.natural_key)
        out = b.temp_name("dispositions")
        if self.contract.dedup == "origin":
            b.staging.execute(
                f"""CREATE TEMP TABLE {out} AS
                SELECT h.*, CASE
                    WHEN first_line < h._origin_line THEN 'duplicate'
                    WHEN o._superseded_by IS NOT NULL THEN 'superseded'
                    ELSE 'loaded' END AS _disposition,
                  CASE WHEN first_line < h._origin_line THEN 'repeats line ' || first_line
                    WHEN o._superseded_by IS NOT NULL THEN 'superseded by ' || o._superseded_by
                  END AS _detail
                FROM (SELECT *, min(_origin_line) OVER (PARTITION BY _ord, {key}, {ROW_HASH_COLUMN})
                        AS first_line FROM {hashed}) h
                JOIN {origins} o USING (_ord)"""
            )
            return out
        if self.contract.dedup == "versions":
            return self._version_dispositions(hashed, origins, out)
        latest = self._latest_landed(hashed)
        keys = [quote(k) for k in self.contract.natural_key]
        partition = ", ".join(keys)
        on_latest = " AND ".join(f"h.{k} = l.{k}" for k in keys)
        on_repeated = " AND ".join(f"h.{k} = r.{k}" for k in keys)
        # Versions within the batch are compared in order (window) only for the few keys
        # that occur more than once; every other row is compared with the landed version.
        b.staging.execute(
            f"""CREATE TEMP TABLE {out} AS
            WITH repeated AS (
              SELECT {partition} FROM {hashed} GROUP BY ALL HAVING count(*) > 1),
            joined AS (
              SELECT h.*, o._origin AS _this_origin, o._superseded_by,
                     l._row_hash AS _landed_hash, l._batch_id AS _landed_batch,
                     l._origin AS _landed_origin, l._origin_line AS _landed_line,
                     r.{keys[0]} IS NOT NULL AS _repeated
              FROM {hashed} h JOIN {origins} o USING (_ord)
              LEFT JOIN {latest} l ON {on_latest}
              LEFT JOIN repeated r ON {on_repeated}),
            ordered AS (
              SELECT *, lag({ROW_HASH_COLUMN}) OVER w AS _prev_hash,
                     lag(_this_origin) OVER w AS _prev_origin,
                     lag(_origin_line) OVER w AS _prev_line
              FROM joined WHERE _repeated
              WINDOW w AS (PARTITION BY {partition} ORDER BY _ord, _origin_line)
              UNION ALL
              SELECT *, NULL AS _prev_hash, NULL AS _prev_origin, NULL AS _prev_line
              FROM joined WHERE NOT _repeated)
            SELECT * EXCLUDE (_this_origin, _repeated, _prev_hash, _prev_origin, _prev_line,
                              _landed_hash, _landed_batch, _landed_origin, _landed_line),
              CASE WHEN {ROW_HASH_COLUMN} = coalesce(_prev_hash, _landed_hash) THEN 'duplicate'
                   WHEN _superseded_by IS NOT NULL THEN 'superseded'
                   ELSE 'loaded' END AS _disposition,
              CASE WHEN {ROW_HASH_COLUMN} = _prev_hash
                     THEN 'repeats ' || _prev_origin || ' line ' || _prev_line
                   WHEN _prev_hash IS NULL AND {ROW_HASH_COLUMN} = _landed_hash
                     THEN 'equals the latest landed version (' || _landed_batch || ', '
                          || _landed_origin || ' line ' || _landed_line || ')'
                   WHEN _superseded_by IS NOT NULL THEN 'superseded by ' || _superseded_by
              END AS _detail
            FROM ordered"""
        )
        return out

    def _version_dispositions(self, hashed: str, origins: str, out: str) -> str:
        """`dedup: versions`: a row is new unless its key and content were read or landed before."""
        b = self.batch
        natural_key = [quote(k) for k in self.contract.natural_key]
        version = [*natural_key, ROW_HASH_COLUMN]
        landed = b.temp_name("landed_versions")
        wh_versions = b.temp_name("wh_versions")
        b.sink.to_warehouse_temp(f"SELECT DISTINCT {', '.join(version)} FROM {hashed}", wh_versions)
        b.sink.to_staging(
            f"""SELECT {", ".join(f"r.{c}" for c in version)},
                       r._batch_id, r._origin, r._origin_line
                FROM (SELECT r.*, row_number() OVER (
                        PARTITION BY {", ".join(f"r.{c}" for c in version)}
                        ORDER BY r._batch_id, r._origin, r._origin_line) AS rn
                      FROM {qualified("raw", self.contract.raw_table)} r
                      JOIN {quote(wh_versions)} v
                        ON {" AND ".join(f"r.{c} = v.{c}" for c in version)}) r
                WHERE rn = 1""",
            landed,
        )
        b.staging.execute(
            f"""CREATE TEMP TABLE {out} AS
            WITH ordered AS (
              SELECT h.*, o._superseded_by,
                     row_number() OVER w AS _seen,
                     first_value(o._origin) OVER w AS _first_origin,
                     first_value(h._origin_line) OVER w AS _first_line
              FROM {hashed} h JOIN {origins} o USING (_ord)
              WINDOW w AS (PARTITION BY {", ".join(f"h.{c}" for c in version)}
                           ORDER BY h._ord, h._origin_line))
            SELECT d.* EXCLUDE (_seen, _first_origin, _first_line),
              CASE WHEN d._seen > 1 OR l._batch_id IS NOT NULL THEN 'duplicate'
                   WHEN d._superseded_by IS NOT NULL THEN 'superseded'
                   ELSE 'loaded' END AS _disposition,
              CASE WHEN d._seen > 1
                     THEN 'repeats ' || d._first_origin || ' line ' || d._first_line
                   WHEN l._batch_id IS NOT NULL
                     THEN 'equals a version already landed (' || l._batch_id || ', '
                          || l._origin || ' line ' || l._origin_line || ')'
                   WHEN d._superseded_by IS NOT NULL THEN 'superseded by ' || d._superseded_by
              END AS _detail
            FROM ordered d LEFT JOIN {quote(landed)} l
              ON {" AND ".join(f"d.{c} = l.{c}" for c in version)}"""
        )
        return out

    def _latest_landed(self, hashed: str) -> str:
        """Staging table: per natural key of this batch, the latest version already landed."""
        b = self.batch
        key_cols = [quote(k) for k in self.contract.natural_key]
        keys = ", ".join(key_cols)
        wh_keys = b.temp_name("wh_keys")
        b.sink.to_warehouse_temp(f"SELECT DISTINCT {keys} FROM {hashed}", wh_keys)
        join = " AND ".join(f"r.{k} = k.{k}" for k in key_cols)
        # The batch's range of the first key column bounds the scan: raw is appended in
        # arrival order, so zone maps skip the history outside it (dates, rising ids).
        low, high = b.staging.execute(
            f"SELECT min({key_cols[0]}), max({key_cols[0]}) FROM {hashed}"
        ).fetchone()
        if low is None:
            return self._no_landed_versions(key_cols)
        bounded = b.sink.text_between(f"r.{key_cols[0]}", _sql_literal(low), _sql_literal(high))
        latest = b.temp_name("latest")
        table = qualified("raw", self.contract.raw_table)
        b.sink.to_staging(
            f"""SELECT {", ".join(f"r.{k}" for k in key_cols)}, r._row_hash, r._batch_id, r._origin,
                       r._origin_line
                FROM (SELECT r.*, row_number() OVER (
                        PARTITION BY {", ".join(f"r.{k}" for k in key_cols)}
                        ORDER BY coalesce(lb.seq, {b.seq}) DESC, r._origin DESC,
                                 r._origin_line DESC) AS rn
                      FROM {table} r JOIN {quote(wh_keys)} k ON {join}
                      LEFT JOIN ops.load_batches lb ON lb.batch_id = r._batch_id
                      WHERE {bounded}) r
                WHERE rn = 1""",
            latest,
        )
        return quote(latest)

    def _no_landed_versions(self, key_cols: list[str]) -> str:
        empty = self.batch.temp_name("latest")
        columns = ", ".join(f"CAST(NULL AS VARCHAR) AS {k}" for k in key_cols)
        self.batch.staging.execute(
            f"CREATE TEMP TABLE {empty} AS SELECT {columns}, CAST(NULL AS BIGINT) AS _row_hash, "
            "CAST(NULL AS VARCHAR) AS _batch_id, CAST(NULL AS VARCHAR) AS _origin, "
            "CAST(NULL AS BIGINT) AS _origin_line WHERE false"
        )
        return empty

    def _append(self, dispositions: str, origins: str) -> int:
        b = self.batch
        names = [name for name, _ in self._raw_table_columns()]
        select = []
        for name, kind in self._raw_table_columns():
            if name == "_batch_id":
                select.append(f"{_sql_literal(b.batch_id)} AS _batch_id")
            elif name == "_origin":
                select.append("o._origin AS _origin")
            elif name == "_loaded_at":
                select.append(f"TIMESTAMP '{b.loaded_at.isoformat(sep=' ')}' AS _loaded_at")
            elif name in dict(self.contract.extras):
                select.append(f"CAST(o.{quote(name)} AS {kind}) AS {quote(name)}")
            else:
                select.append(f"d.{quote(name)}")
        return b.sink.write(
            qualified("raw", self.contract.raw_table),
            names,
            f"SELECT {', '.join(select)} FROM {dispositions} d JOIN {origins} o USING (_ord) "
            f"WHERE d._disposition = 'loaded'",
        )

    def _write_skipped(self, dispositions: str, origins: str) -> None:
        b = self.batch
        b.write_ops(
            "skipped_rows",
            f"SELECT {_sql_literal(b.batch_id)} AS batch_id, {_sql_literal(b.source)} AS source, "
            f"{_sql_literal(self.name)} AS stream, o._origin AS origin, "
            f"d._origin_line AS origin_line, d._disposition AS disposition, d._detail AS detail "
            f"FROM {dispositions} d JOIN {origins} o USING (_ord) "
            f"WHERE d._disposition <> 'loaded' ORDER BY d._ord, d._origin_line",
        )

    def _write_ledger(self, dispositions: str, quarantined: str, origins: str) -> StreamTotals:
        b = self.batch
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
                f"{self.contract.source}.{self.name}: rows read and rows accounted for differ, "
                f"so nothing was committed: {listed}"
            )
        b.write_ops(
            "load_ledger",
            f"SELECT {_sql_literal(b.batch_id)} AS batch_id, {_sql_literal(b.source)} AS source, "
            f"{_sql_literal(self.name)} AS stream, origin, 'landing' AS entry, read, loaded, "
            f"quarantined, duplicate, superseded FROM {ledger} ORDER BY _ord",
        )
        total = b.staging.execute(
            f"SELECT coalesce(sum(read), 0), coalesce(sum(loaded), 0), "
            f"coalesce(sum(quarantined), 0), coalesce(sum(duplicate), 0), "
            f"coalesce(sum(superseded), 0) FROM {ledger}"
        ).fetchone()
        return StreamTotals(*(int(v) for v in total))


@dataclass
class Batch:
    """One extraction run of one source (see the module docstring)."""

    source: str
    contract: SourceContract
    sink: Sink
    settings: Settings
    batch_id: str = ""
    seq: int = 0
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    result: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.streams: dict[str, StreamLanding] = {}
        self.workdir = Path(tempfile.mkdtemp(prefix=f"ronghe-{self.source}-"))
        self._temp_counter = 0
        self._arrow_views: dict[str, pa.Table] = {}
        self._state: dict[tuple[str, str], str | None] = {}
        self._state_changes: dict[tuple[str, str], str | None] = {}
        self._files: list[tuple[FileFacts, str | None, str]] = []
        self._drift: dict[tuple[str, str, str], str] = {}
        self._rejections: list[tuple[str | None, str, str]] = []
        self._control_totals: list[tuple] = []
        self._superseded_landed: dict[str, dict[str, str]] = {}
        self._manifests: dict[str, tuple[list[tuple[str, str]], list[dict[str, Any]]]] = {}

    @property
    def staging(self):
        """The DuckDB connection for parsing and validation."""
        return self.sink.staging

    @property
    def temp_counter(self) -> int:
        return self._temp_counter

    def temp_name(self, purpose: str) -> str:
        self._temp_counter += 1
        return f"_stg_{self._temp_counter}_{purpose}"

    def release_staging(self, since: int) -> None:
        """Drop the staging tables and Arrow views named after counter `since` (memory)."""

        def number(name: str) -> int:
            match = _TEMP_NAME.match(name)
            return int(match[1]) if match else 0

        for name in [n for n in self._arrow_views if number(n) > since]:
            self.staging.unregister(name)
            del self._arrow_views[name]
        tables = self.staging.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary"
        ).fetchall()
        for (name,) in tables:
            if number(name) > since:
                self.staging.execute(f"DROP TABLE {quote(name)}")

    def stage_arrow(self, table: pa.Table) -> str:
        """Copy an Arrow table into a staging temp table and return its name."""
        name = self.temp_name("arrow")
        self.staging.register("_arrow_in", table)
        try:
            self.staging.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM _arrow_in")
        finally:
            self.staging.unregister("_arrow_in")
        return name

    def view_arrow(self, table: pa.Table) -> str:
        """Make an Arrow table queryable in staging without copying it (kept for the batch)."""
        name = self.temp_name("view")
        self.staging.register(name, table)
        self._arrow_views[name] = table
        return name

    def stream(self, name: str) -> StreamLanding:
        if name not in self.streams:
            self.streams[name] = StreamLanding(self, self.contract.stream(name))
        return self.streams[name]

    # -- state, registry, drift, rejections -----------------------------------------

    def _load_state(self) -> None:
        rows = self.sink.fetch(
            "SELECT stream, name, value FROM ops.extract_state WHERE source = ?", (self.source,)
        )
        self._state = {(stream, name): value for stream, name, value in rows}

    def get_state(self, stream: str, name: str) -> str | None:
        key = (stream, name)
        return self._state_changes.get(key, self._state.get(key))

    def set_state(self, stream: str, name: str, value: str | None) -> None:
        self._state_changes[(stream, name)] = value

    def registered_files(self) -> dict[str, FileFacts]:
        """The latest registration of every file this source has landed, by path."""
        rows = self.sink.fetch(
            "SELECT f.path, f.sha256, f.size_bytes, f.mtime_ns FROM ops.file_registry f "
            "JOIN ops.load_batches b ON b.batch_id = f.batch_id WHERE f.source = ? "
            "ORDER BY b.seq",
            (self.source,),
        )
        return {row[0]: FileFacts(*row) for row in rows}

    def register_file(self, facts: FileFacts, stream: str | None, disposition: str) -> None:
        self._files.append((facts, stream, disposition))

    def note_drift(self, stream: str, origin: str, column: str, change: str) -> None:
        self._drift[(stream, origin, column)] = change

    def forget_drift(self, stream: str, origin: str) -> None:
        for key in [k for k in self._drift if k[0] == stream and k[1] == origin]:
            del self._drift[key]

    def reject(self, stream: str | None, origin: str, reason: str) -> None:
        """Refuse a delivery whole: nothing of it is landed or registered."""
        self._rejections.append((stream, origin, reason))
        log_event(
            "delivery_rejected", source=self.source, stream=stream, origin=origin, reason=reason
        )

    def control_total(
        self,
        stream: str,
        origin: str,
        line: int | None,
        raw_text: str | None,
        measure: str,
        declared: str | None,
        computed: str | None,
        status: str,
    ) -> None:
        self._control_totals.append(
            (stream, origin, line, raw_text, measure, declared, computed, status)
        )

    def supersede_landed(self, stream: str, origin: str, by: str) -> None:
        """An origin landed by an earlier batch is replaced by `by`."""
        self._superseded_landed.setdefault(stream, {})[origin] = by

    def append_manifest(
        self, table: str, columns: list[tuple[str, str]], records: list[dict[str, Any]]
    ) -> None:
        """Rows about deliveries, not source rows (e.g. `raw.pos_drops`); each carries `_origin`."""
        self._manifests.setdefault(table, (columns, []))[1].extend(records)

    # -- warehouse writes ---------------------------------------------------------------

    def ensure_raw_table(self, table: str, columns: Sequence[tuple[str, str]]) -> None:
        existing = self.sink.columns("raw", table)
        target = qualified("raw", table)
        if not existing:
            defs = ", ".join(f"{quote(name)} {kind}" for name, kind in columns)
            self.sink.execute(f"CREATE TABLE {target} ({defs})")
            return
        for name, kind in columns:
            if name not in existing:
                self.sink.execute(f"ALTER TABLE {target} ADD COLUMN {quote(name)} {kind}")

    def write_ops(self, table: str, staging_sql: str) -> None:
        self.sink.write(f"ops.{table}", ops_columns(table), staging_sql)

    def _write_ops_rows(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        columns = ops_columns(table)
        data = {
            name: pa.array([row[i] for row in rows]) if rows else pa.array([], pa.string())
            for i, name in enumerate(columns)
        }
        self.write_ops(table, f"SELECT * FROM {self.stage_arrow(pa.table(data))}")

    def _land_superseded_landed(self) -> StreamTotals:
        totals = StreamTotals()
        for stream_name, replaced in self._superseded_landed.items():
            stream = self.stream(stream_name)
            table = qualified("raw", stream.contract.raw_table)
            if not self.sink.columns("raw", stream.contract.raw_table):
                continue
            listed = self.stage_arrow(
                pa.table({"origin": list(replaced), "superseded_by": list(replaced.values())})
            )
            wh = self.temp_name("wh_superseded")
            self.sink.to_warehouse_temp(f"SELECT * FROM {listed}", wh)
            counts = self.sink.fetch(
                f"SELECT r._origin, count(*) FROM {table} r "
                f"JOIN {quote(wh)} s ON r._origin = s.origin "
                f"WHERE NOT EXISTS (SELECT 1 FROM ops.superseded_origins so WHERE so.source = ? "
                "AND so.stream = ? AND so.origin = r._origin) "
                "GROUP BY r._origin ORDER BY r._origin",
                (self.source, stream_name),
            )
            ledger, records = [], []
            for origin, rows in counts:
                by = replaced[origin]
                records.append((self.batch_id, self.source, stream_name, origin, by, rows))
                ledger.append(
                    (
                        self.batch_id,
                        self.source,
                        stream_name,
                        origin,
                        "adjustment",
                        0,
                        -rows,
                        0,
                        0,
                        rows,
                    )
                )
                totals.loaded -= rows
                totals.superseded += rows
            self._write_ops_rows("superseded_origins", records)
            self._write_ops_rows("load_ledger", ledger)
        return totals

    def _write_manifests(self) -> int:
        written = 0
        for table, (columns, records) in self._manifests.items():
            all_columns = [*columns, *METADATA_COLUMNS]
            self.ensure_raw_table(table, all_columns)
            data = {}
            for name, kind in columns:
                values = [r.get(name) for r in records]
                data[name] = pa.array(
                    values, pa.int64() if kind in {"INTEGER", "BIGINT"} else pa.string()
                )
            data["_origin"] = pa.array([r["_origin"] for r in records], pa.string())
            staged = self.stage_arrow(pa.table(data))
            select = [quote(name) for name, _ in columns] + [
                f"{_sql_literal(self.batch_id)} AS _batch_id",
                "_origin",
                "CAST(NULL AS BIGINT) AS _origin_line",
                f"TIMESTAMP '{self.loaded_at.isoformat(sep=' ')}' AS _loaded_at",
            ]
            written += self.sink.write(
                qualified("raw", table),
                [name for name, _ in all_columns],
                f"SELECT {', '.join(select)} FROM {staged}",
            )
        return written

    def _finish(self) -> bool:
        """Land everything; return False when the batch changed nothing (then roll back)."""
        totals = StreamTotals()
        per_stream: dict[str, dict[str, int]] = {}
        rejected = {origin for _, origin, _ in self._rejections}
        for stream in self.streams.values():
            if any(o.origin in rejected and not o.withdrawn for o in stream.origins):
                raise LandingError(
                    f"{self.source}.{stream.name}: a rejected origin was also staged"
                )
            started = time.monotonic()
            stream.flush()
            stream_totals = stream.totals
            log_event(
                "stream_landed",
                source=self.source,
                stream=stream.name,
                seconds=round(time.monotonic() - started, 2),
                **stream_totals.as_dict(),
            )
            totals.add(stream_totals)
            per_stream[stream.name] = stream_totals.as_dict()
        adjustments = self._land_superseded_landed()
        totals.loaded += adjustments.loaded
        totals.superseded += adjustments.superseded
        manifests = self._write_manifests()
        state_changed = {
            key: value
            for key, value in self._state_changes.items()
            if self._state.get(key) != value
        }
        changed = any(
            (
                totals.loaded,
                totals.quarantined,
                totals.superseded,
                adjustments.superseded,
                manifests,
                self._files,
                state_changed,
                self._drift,
                self._rejections,
                self._control_totals,
            )
        )
        self.result = {
            "source": self.source,
            "batch_id": self.batch_id if changed else None,
            "committed": changed,
            "files": len(self._files),
            **totals.as_dict(),
            "rejected": len(self._rejections),
            "streams": per_stream,
        }
        if not changed:
            return False
        self._write_ops_rows(
            "file_registry",
            [
                (
                    f.path,
                    f.sha256,
                    f.size_bytes,
                    f.mtime_ns,
                    self.source,
                    stream,
                    disposition,
                    self.batch_id,
                )
                for f, stream, disposition in self._files
            ],
        )
        for (stream, name), value in state_changed.items():
            self.sink.execute(
                "DELETE FROM ops.extract_state WHERE source = ? AND stream = ? AND name = ?",
                (self.source, stream, name),
            )
            self.sink.execute(
                "INSERT INTO ops.extract_state VALUES (?, ?, ?, ?, ?)",
                (self.source, stream, name, value, self.batch_id),
            )
        self._write_ops_rows(
            "schema_drift",
            [
                (self.batch_id, self.source, stream, origin, column, change)
                for (stream, origin, column), change in self._drift.items()
            ],
        )
        self._write_ops_rows(
            "rejected_deliveries",
            [(self.batch_id, self.source, s, o, r) for s, o, r in self._rejections],
        )
        self._write_ops_rows(
            "control_totals", [(self.batch_id, self.source, *row) for row in self._control_totals]
        )
        self.sink.execute(
            "INSERT INTO ops.load_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.batch_id,
                self.source,
                self.seq,
                self.sink.engine,
                self.loaded_at,
                datetime.now(UTC).replace(tzinfo=None),
                len(self._files),
                totals.read,
                totals.loaded,
                totals.quarantined,
                totals.duplicate,
                totals.superseded,
                len(self._rejections),
            ),
        )
        return True


@contextmanager
def open_batch(source: str, settings: Settings | None = None) -> Iterator[Batch]:
    """A landing batch for `source`, committed when the block ends without error.

    Rejected deliveries do not stop the others: the batch commits, then
    `RejectedDeliveriesError` names them. Any other error rolls everything back.
    """
    settings = settings or load_settings()
    contract = load_source(source)
    sink = open_sink(settings.warehouse)
    try:
        _prepare(sink, source)
        sink.begin(source)
        batch = Batch(source=source, contract=contract, sink=sink, settings=settings)
        try:
            seq = sink.fetch(
                "SELECT coalesce(max(seq), 0) + 1 FROM ops.load_batches WHERE source = ?", (source,)
            )[0][0]
            batch.seq = int(seq)
            batch.batch_id = f"{source}-{batch.seq:06d}"
            batch._load_state()
            log_event("batch_started", source=source, batch_id=batch.batch_id, engine=sink.engine)
            yield batch
            committed = batch._finish()
            if committed:
                started = time.monotonic()
                sink.commit()
                log_event(
                    "batch_committed",
                    commit_seconds=round(time.monotonic() - started, 2),
                    **{k: v for k, v in batch.result.items() if k != "streams"},
                )
            else:
                sink.rollback()
                log_event("batch_unchanged", source=source, read=batch.result["read"])
        except BaseException:
            sink.rollback()
            raise
        finally:
            shutil.rmtree(batch.workdir, ignore_errors=True)
    finally:
        sink.close()
    if batch._rejections:
        raise RejectedDeliveriesError(source, batch._rejections)


def _prepare(sink: Sink, source: str) -> None:
    """Create the ops schema outside the batch transaction (so concurrent sources don't race)."""
    sink.begin("ddl")
    ensure_ops_schema(sink)
    sink.commit()
