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
- `batch.defer(stream, origin, reason)` records a delivery seen but not taken
  yet (a POS drop still being written) in `ops.deferred_deliveries`, once.
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

The work is split by job: `batch` (the run's staging and records),
`stream_landing` (one stream's rows), `row_checks` (contract as SQL),
`quarantine`, `dedup` (dispositions), `row_outcomes` (raw append, skipped rows,
ledger), `raw_tables` (table layout), `batch_commit` (the commit's writes).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager

from extractors.batch import Batch
from extractors.batch_commit import finish
from extractors.contracts import load_source
from extractors.errors import LandingError, LedgerImbalanceError, RejectedDeliveriesError
from extractors.events import log_event
from extractors.files import FileFacts
from extractors.ops_tables import ensure_ops_schema
from extractors.raw_columns import RESERVED_COLUMNS, text_value
from extractors.sinks import Sink, open_sink
from extractors.stream_landing import StreamLanding
from ronghe.privacy.enforce import enforce_batch
from ronghe.settings import Settings, load_settings

__all__ = [
    "RESERVED_COLUMNS",
    "Batch",
    "FileFacts",
    "LandingError",
    "LedgerImbalanceError",
    "RejectedDeliveriesError",
    "StreamLanding",
    "open_batch",
    "text_value",
]


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
            batch.load_state()
            log_event("batch_started", source=source, batch_id=batch.batch_id, engine=sink.engine)
            yield batch
            committed = finish(batch)
            if committed:
                # Rows of people erased earlier are scrubbed before they are committed.
                enforce_batch(sink, batch.batch_id, settings)
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
    if batch.rejections:
        raise RejectedDeliveriesError(source, batch.rejections)


def _prepare(sink: Sink, source: str) -> None:
    """Create the ops schema outside the batch transaction (so concurrent sources don't race)."""
    sink.begin("ddl")
    ensure_ops_schema(sink)
    sink.commit()
