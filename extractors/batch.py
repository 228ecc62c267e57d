"""One extraction run of one source: what it stages, and what it will record at commit.

A `Batch` holds the staging DuckDB (temporary tables and Arrow views, named
per batch so a flush can free its own), the streams being landed, and the
facts the commit writes beside the rows: extraction state, files to
register, schema drift, rejected deliveries, control totals, deliveries
replaced by later ones, and delivery manifests. `batch_commit.finish` writes
them; `landing.open_batch` opens and commits the batch.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from extractors.contracts import SourceContract
from extractors.events import log_event
from extractors.files import FileFacts
from extractors.ops_tables import ops_columns
from extractors.raw_tables import ensure_raw_table
from extractors.sinks import Sink, quote
from extractors.stream_landing import StreamLanding
from ronghe.settings import Settings

_TEMP_NAME = re.compile(r"_stg_(\d+)_")


@dataclass
class Batch:
    """One extraction run of one source (see `extractors.landing`)."""

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
        self.stored_state: dict[tuple[str, str], str | None] = {}
        """State as committed before this batch: (stream, name) -> value."""
        self.state_changes: dict[tuple[str, str], str | None] = {}
        self.files_to_register: list[tuple[FileFacts, str | None, str]] = []
        self.drift_notes: dict[tuple[str, str, str], str] = {}
        """(stream, origin, column) -> `added` or `missing`."""
        self.rejections: list[tuple[str | None, str, str]] = []
        """(stream, origin, reason) of deliveries refused whole."""
        self.deferrals: list[tuple[str | None, str, str]] = []
        """(stream, origin, reason) of deliveries seen but not taken yet."""
        self.control_total_rows: list[tuple] = []
        self.superseded_landed: dict[str, dict[str, str]] = {}
        """stream -> {origin landed earlier: the origin that replaces it}."""
        self.manifests: dict[str, tuple[list[tuple[str, str]], list[dict[str, Any]]]] = {}
        self.raw_table_changes: list[str] = []
        """Columns of existing raw tables re-derived for this version's layout."""

    # -- staging ------------------------------------------------------------------------

    @property
    def staging(self) -> duckdb.DuckDBPyConnection:
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

    def load_state(self) -> None:
        rows = self.sink.fetch(
            "SELECT stream, name, value FROM ops.extract_state WHERE source = ?", (self.source,)
        )
        self.stored_state = {(stream, name): value for stream, name, value in rows}

    def get_state(self, stream: str, name: str) -> str | None:
        key = (stream, name)
        return self.state_changes.get(key, self.stored_state.get(key))

    def set_state(self, stream: str, name: str, value: str | None) -> None:
        self.state_changes[(stream, name)] = value

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
        self.files_to_register.append((facts, stream, disposition))

    def note_drift(self, stream: str, origin: str, column: str, change: str) -> None:
        self.drift_notes[(stream, origin, column)] = change

    def forget_drift(self, stream: str, origin: str) -> None:
        for key in [k for k in self.drift_notes if k[0] == stream and k[1] == origin]:
            del self.drift_notes[key]

    def reject(self, stream: str | None, origin: str, reason: str) -> None:
        """Refuse a delivery whole: nothing of it is landed or registered."""
        self.rejections.append((stream, origin, reason))
        log_event(
            "delivery_rejected", source=self.source, stream=stream, origin=origin, reason=reason
        )

    def defer(self, stream: str | None, origin: str, reason: str) -> None:
        """A delivery seen but not taken yet (e.g. still being written): recorded in
        `ops.deferred_deliveries` the first time it is seen waiting for that reason."""
        self.deferrals.append((stream, origin, reason))

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
        self.control_total_rows.append(
            (stream, origin, line, raw_text, measure, declared, computed, status)
        )

    def supersede_landed(self, stream: str, origin: str, by: str) -> None:
        """An origin landed by an earlier batch is replaced by `by`."""
        self.superseded_landed.setdefault(stream, {})[origin] = by

    def append_manifest(
        self, table: str, columns: list[tuple[str, str]], records: list[dict[str, Any]]
    ) -> None:
        """Rows about deliveries, not source rows (e.g. `raw.pos_drops`); each carries `_origin`."""
        self.manifests.setdefault(table, (columns, []))[1].extend(records)

    # -- warehouse writes ---------------------------------------------------------------

    def ensure_raw_table(
        self, table: str, columns: Sequence[tuple[str, str]], extras: Sequence[str] = ()
    ) -> None:
        self.raw_table_changes += ensure_raw_table(self.sink, table, columns, extras)

    def write_ops(self, table: str, staging_sql: str) -> None:
        self.sink.write(f"ops.{table}", ops_columns(table), staging_sql)

    def write_ops_rows(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        columns = ops_columns(table)
        data = {name: pa.array([row[i] for row in rows]) for i, name in enumerate(columns)}
        self.write_ops(table, f"SELECT * FROM {self.stage_arrow(pa.table(data))}")
