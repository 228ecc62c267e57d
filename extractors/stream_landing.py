"""The rows one batch lands for one stream: what extractors hand over, and landing it.

Extractors name origins and hand over rows (`add_origin`, `add_records`,
`add_rows`, `quarantine`); `flush` (called by the batch at commit, or by a big
stream every few million rows) validates the staged rows, quarantines the bad
ones, decides each good row's disposition, appends the new ones and writes the
ledger. See `extractors.landing` for the whole picture.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from extractors import row_outcomes
from extractors.contracts import StreamContract
from extractors.dedup import dispositions
from extractors.errors import LandingError, LedgerImbalanceError
from extractors.quarantine import write_quarantine
from extractors.raw_columns import (
    METADATA_COLUMNS,
    RESERVED_COLUMNS,
    ROW_HASH_COLUMN,
    ROW_HASH_TYPE,
    ROW_ID,
    text_value,
)
from extractors.row_checks import reason_sql, row_hash_sql
from extractors.row_outcomes import StreamTotals
from extractors.sinks import quote

if TYPE_CHECKING:
    from extractors.batch import Batch

RawTextLookup = Callable[[list[tuple[int, int]]], dict[tuple[int, int], str]]
"""`lookup(list of (ord, line)) -> {(ord, line): text}` for rows staged without `_raw`."""


@dataclass
class Origin:
    """Where rows came from (a file, an ERP table, an API request) and how many were read."""

    ord: int
    origin: str
    read: int
    extras: dict[str, Any]
    superseded_by: str | None = None
    withdrawn: bool = False


class StreamLanding:
    """The rows one batch lands for one stream (see the module docstring)."""

    def __init__(self, batch: Batch, contract: StreamContract) -> None:
        self.batch = batch
        self.contract = contract
        self.origins: list[Origin] = []
        self.drift_columns: list[str] = []
        """Columns beyond the contract seen in this batch, in order of discovery."""
        self.row_sources: list[str] = []
        self.prequarantine: list[tuple[int, int | None, str | None, str]] = []
        """Rows rejected before parsing: (origin number, line, raw text, reason)."""
        self.raw_text_lookup: RawTextLookup | None = None
        self._record_tables: list[tuple[str, list[str]]] = []
        """Staging tables of `add_text_columns` rows and their columns (for raw texts)."""
        self.totals = StreamTotals()
        self._flushed = 0
        """Origins before this index were landed by an earlier `flush`."""

    @property
    def name(self) -> str:
        return self.contract.name

    def add_origin(self, origin: str, read: int, extras: Mapping[str, Any] | None = None) -> int:
        """Register an origin and the rows read from it; returns its number."""
        ord_ = len(self.origins)
        self.origins.append(Origin(ord_, origin, int(read), dict(extras or {})))
        return ord_

    def add_read(self, ord_: int, rows: int) -> None:
        """Count more rows read from an origin (for sources read in chunks)."""
        self.origins[ord_].read += rows

    def add_rows(self, staging_sql: str) -> None:
        """Rows from a staging query: `_ord`, `_origin_line`, fields, optional `_raw`, `_reason`."""
        self.row_sources.append(staging_sql)

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
        self.row_sources.append(f"SELECT * FROM {self.batch.stage_arrow(pa.table(table))}")

    def add_text_columns(
        self, ord_: int, columns: Mapping[str, pa.Array], first_line: int = 1
    ) -> None:
        """Rows given column by column as text (ERP pulls), numbered from `first_line`.

        Same rows as `add_records` with those values, without a Python object per value:
        a quarantined row's text (the record as JSON, as `add_records` writes it) is
        built only for the rows that are quarantined."""
        rows = len(next(iter(columns.values()))) if columns else 0
        if not rows:
            return
        self.check_columns(ord_, list(columns), record_level=True)
        table = pa.table(
            {
                "_ord": pa.array([ord_] * rows, pa.int32()),
                "_origin_line": pa.array(range(first_line, first_line + rows), pa.int64()),
                **columns,
            }
        )
        staged = self.batch.stage_arrow(table)
        self.row_sources.append(f"SELECT * FROM {staged}")
        self._record_tables.append((staged, list(columns)))
        if self.raw_text_lookup is None:
            self.raw_text_lookup = self._record_texts

    def _record_texts(self, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """The JSON text of staged column rows, for the few that are quarantined."""
        keys = self.batch.stage_arrow(
            pa.table(
                {
                    "_ord": pa.array([w[0] for w in wanted], pa.int32()),
                    "_origin_line": pa.array([w[1] for w in wanted], pa.int64()),
                }
            )
        )
        texts: dict[tuple[int, int], str] = {}
        for staged, names in self._record_tables:
            selected = ", ".join(f"s.{quote(n)}" for n in names)
            for ord_, line, *values in self.batch.staging.execute(
                f"SELECT s._ord, s._origin_line, {selected} FROM {staged} s "
                f"SEMI JOIN {keys} k USING (_ord, _origin_line)"
            ).fetchall():
                texts[(ord_, line)] = text_value(dict(zip(names, values, strict=True)))
        return texts

    def quarantine(self, ord_: int, line: int | None, raw_text: str | None, reason: str) -> None:
        """A row that could not even be parsed (undecodable bytes, not JSON...)."""
        self.prequarantine.append((ord_, line, raw_text, reason))

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
                f"SELECT {reason_sql(self.contract)} FROM _violations_in ORDER BY _i"
            ).fetchall()
        finally:
            self.batch.staging.unregister("_violations_in")
        return [row[0] for row in rows]

    def set_raw_text_lookup(self, lookup: RawTextLookup) -> None:
        """`lookup(list of (ord, line)) -> {(ord, line): text}` for rows staged without `_raw`."""
        self.raw_text_lookup = lookup

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

    # -- landing ---------------------------------------------------------------------

    @property
    def source_columns(self) -> list[str]:
        """The contract's fields, then the columns the source added in this batch."""
        return list(self.contract.field_names) + self.drift_columns

    def raw_table_columns(self) -> list[tuple[str, str]]:
        """The raw table's columns (name, type) as this stream writes them."""
        columns = [(name, "VARCHAR") for name in self.source_columns]
        columns += list(self.contract.extras) + list(METADATA_COLUMNS)
        if self.contract.dedup in ("history", "versions"):
            columns.append((ROW_HASH_COLUMN, ROW_HASH_TYPE))
        return columns

    def flush(self) -> StreamTotals:
        """Land the rows staged so far, inside the batch's one transaction, and free their
        staging. A big stream calls this every few million rows to bound memory; rows staged
        later are deduplicated against these as against any landed version."""
        first_temp = self.batch.temp_counter
        landed = self._land()
        self.totals.add(landed)
        self.row_sources, self.prequarantine = [], []
        self.raw_text_lookup = None
        self._record_tables = []
        self._flushed = len(self.origins)
        self.batch.release_staging(first_temp)
        return landed

    def _land(self) -> StreamTotals:
        """Validate, dedupe and append this stream's rows; write its ledger; return totals."""
        b = self.batch
        contract = self.contract
        extras = [name for name, _ in contract.extras]
        b.ensure_raw_table(contract.raw_table, self.raw_table_columns(), extras)
        origins = b.stage_arrow(self._origins_table())
        # One materialisation: every row with why it fails the contract (NULL if it
        # does not) and the hash of its content (used only for the rows that pass).
        checked = b.temp_name("checked")
        b.staging.execute(
            f"CREATE TEMP TABLE {checked} AS SELECT r.*, {reason_sql(contract)} AS _why, "
            f"{row_hash_sql(self.source_columns)} AS {ROW_HASH_COLUMN} FROM {self._rows_sql()} r"
        )
        quarantined, repeats = write_quarantine(self, checked, origins)
        # `_row` (the staging row id) names a valid row: several rows may share an origin
        # line (an API object's items), and the dispositions carry no field values.
        hashed = f"(SELECT *, rowid AS {ROW_ID} FROM {checked} WHERE _why IS NULL)"
        decided = dispositions(self, hashed, origins)
        if repeats is not None:
            b.staging.execute(
                f"INSERT INTO {decided} BY NAME SELECT _ord, _origin_line, "
                f"'duplicate' AS _disposition, _detail FROM {repeats}"
            )
        loaded = row_outcomes.append_loaded(self, hashed, decided, origins)
        row_outcomes.write_skipped(self, decided, origins)
        totals = row_outcomes.write_ledger(self, decided, quarantined, origins)
        if totals.loaded != loaded:
            raise LedgerImbalanceError(
                f"{contract.source}.{self.name}: appended {loaded} rows but the ledger counts "
                f"{totals.loaded}"
            )
        return totals

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
        wanted = [*self.source_columns, "_raw", "_reason"]
        parts = []
        for source in self.row_sources:
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
