"""POS extractor: till file drops of both vendors into `raw.pos_*` (contract: sources/pos.yml).

A drop `pos/<store>/<YYYYMMDD>[_N]/` is taken once `_SUCCESS` is in it; until
then it is neither loaded nor registered, and `ops.deferred_deliveries` records
it (once) with that reason, so an auditor sees what is waiting and why.

A drop is taken whole or not at all: if one of its files lacks a required
column or has an unusable header, the delivery is rejected (recorded, not
registered, retried next run) and the run fails after landing everything else.

A drop is read once: its folder is skipped by later runs without even a
`stat` of its files (a correction comes as a new `_N` folder, as the contract
says), which keeps incremental runs cheap over a long history of drops.

The vendor is detected from each file, not from the ERP: a Chinese header means
vendor B (GBK, headers mapped to vendor A's names, a `合计` summary as the last
line of transactions.csv), an English one vendor A (UTF-8, BOM or not). Values
land exactly as they arrived, including barcodes that lost their leading zeros.

Deliveries: the highest complete delivery of a store-day wins whole. Earlier
deliveries read in the same batch are parsed and accounted, but their rows
count as `superseded` and are not appended. Deliveries landed by an earlier
batch stay in raw (append-only) and the batch books a ledger adjustment moving
their rows from loaded to superseded. `raw.pos_drops` lists every landed
delivery so staging keeps only the highest one per store-day.

The summary line is not a data row: it is not counted in `read`. It is
recorded in `ops.control_totals` with its figures checked against the file's
data rows (distinct parsed rows: a till retry's repeat is not counted twice).
Each figure is matched to its column: an amount column against the sum of
that column, a whole number elsewhere against the row count. A vendor B file
with data rows but no summary line is recorded as `missing`.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from extractors.contracts import StreamContract
from extractors.csvfiles import CsvStaging, DeliveryError, PreparedCsv, prepare_csv
from extractors.events import Progress, log_event
from extractors.files import list_dir, read_file
from extractors.landing import Batch, FileFacts, open_batch
from extractors.sinks import quote
from extractors.wms import sources_root
from ronghe.settings import Settings, load_settings

_DROP_NAME = re.compile(r"(?P<day>\d{8})(?:_(?P<n>[2-9]|[1-9]\d+))?")
DROPS_TABLE = "pos_drops"
DROPS_COLUMNS = [
    ("store_code", "VARCHAR"),
    ("business_date", "VARCHAR"),
    ("delivery", "INTEGER"),
    ("vendor", "VARCHAR"),
    ("transactions_sha256", "VARCHAR"),
    ("lines_sha256", "VARCHAR"),
    ("members_sha256", "VARCHAR"),
]


@dataclass
class Drop:
    store_code: str
    business_date: str
    delivery: int
    folder: Path
    relative: str

    @property
    def store_day(self) -> tuple[str, str]:
        return (self.store_code, self.business_date)


@dataclass
class _ReadDrop:
    drop: Drop
    files: dict[str, tuple[Path, FileFacts, PreparedCsv]] = field(default_factory=dict)
    vendor: str = "A"


def _parse_drop_name(name: str) -> tuple[str, int] | None:
    match = _DROP_NAME.fullmatch(name)
    if not match:
        return None
    day = match["day"]
    try:
        iso = date(int(day[:4]), int(day[4:6]), int(day[6:])).isoformat()
    except ValueError:
        return None
    return iso, int(match["n"] or 1)


def discover(batch: Batch, root: Path, landed_folders: set[str]) -> tuple[list[Drop], int]:
    """Complete drops not landed yet, in path order, and how many are still incomplete."""
    marker = batch.contract.options.get("success_marker", "_SUCCESS")
    drops, incomplete = [], 0
    for store in list_dir(root / "pos"):
        if not store.is_dir():
            batch.reject(None, f"pos/{store.name}", "a file where store folders are expected")
            continue
        for day in list_dir(Path(store.path)):
            relative = f"pos/{store.name}/{day.name}"
            if relative in landed_folders:
                continue
            parsed = _parse_drop_name(day.name) if day.is_dir() else None
            if parsed is None:
                batch.reject(None, relative, "not a drop folder named <YYYYMMDD> or <YYYYMMDD>_<N>")
                continue
            if not os.path.exists(os.path.join(day.path, marker)):
                incomplete += 1
                batch.defer(None, relative, f"no {marker}: the drop is still being written")
                continue
            drops.append(Drop(store.name, parsed[0], parsed[1], Path(day.path), relative))
    return drops, incomplete


def _landed_drops(batch: Batch) -> list[tuple[str, str, int, str]]:
    if not batch.sink.columns("raw", DROPS_TABLE):
        return []
    return batch.sink.fetch(
        f"SELECT store_code, business_date, delivery, _origin FROM raw.{quote(DROPS_TABLE)}"
    )


def _read_drop(root: Path, drop: Drop, streams: dict[str, StreamContract]) -> _ReadDrop:
    """Read, hash and frame the drop's three files; raises DeliveryError when it must be refused."""
    read = _ReadDrop(drop)
    vendors = set()
    for name, contract in streams.items():
        file_name = contract.options["file_name"]
        path = drop.folder / file_name
        try:
            data, facts = read_file(str(path), f"{drop.relative}/{file_name}")
        except (FileNotFoundError, IsADirectoryError):
            raise DeliveryError(f"{file_name} is missing") from None
        try:
            prepared = prepare_csv(data, contract)
        except DeliveryError as error:
            raise DeliveryError(f"{contract.options['file_name']}: {error}") from None
        if prepared.columns:
            vendors.add("B" if prepared.aliased else "A")
        read.files[name] = (path, facts, prepared)
    if len(vendors) > 1:
        raise DeliveryError("its files have the headers of different vendors")
    read.vendor = vendors.pop() if vendors else "A"
    return read


@dataclass
class _Staged:
    """A drop whose files are staged: its origin number and file facts per stream."""

    drop: Drop
    vendor: str
    files: dict[str, tuple[int, FileFacts]]


class _DropLoader:
    """Stages drops as they are read; decides supersession once all are known."""

    def __init__(self, batch: Batch, root: Path) -> None:
        self.batch = batch
        self.root = root
        self.streams = dict(batch.contract.streams)
        self.stagings = {name: CsvStaging(batch.stream(name)) for name in self.streams}
        self.staged: list[_Staged] = []
        self.summaries: list[tuple[int, str, int, str]] = []

    def load(self, drop: Drop) -> _ReadDrop | None:
        """Read and stage one drop whole, or reject it whole (returns None)."""
        try:
            read = _read_drop(self.root, drop, self.streams)
            for name, (_, facts, prepared) in read.files.items():
                missing = _missing_required(self.streams[name], prepared.columns)
                if prepared.columns and missing:
                    raise DeliveryError(
                        f"{facts.path.rsplit('/', 1)[1]}: required column(s) missing: "
                        f"{', '.join(missing)}"
                    )
        except DeliveryError as error:
            self.batch.reject(None, drop.relative, str(error))
            return None
        files = {}
        for name, (path, facts, prepared) in read.files.items():
            stream = self.batch.stream(name)
            extras = {
                "_store_code": drop.store_code,
                "_business_date": drop.business_date,
                "_delivery": drop.delivery,
                "_vendor": read.vendor,
            }
            ord_ = stream.add_origin(facts.path, prepared.read, extras)
            if prepared.columns:
                stream.check_columns(ord_, prepared.columns)
            self.stagings[name].add(ord_, path, prepared)
            wants_summary = self.streams[name].options.get("summary_first_field")
            if wants_summary and (prepared.summary or (read.vendor == "B" and prepared.read)):
                self.summaries.append((ord_, facts.path, *(prepared.summary or (0, ""))))
            files[name] = (ord_, facts)
        self.staged.append(_Staged(drop, read.vendor, files))
        return read

    def finish(self, winners: dict[tuple[str, str], int]) -> None:
        """Supersede all but each store-day's highest delivery; register; parse; check totals."""
        for staged in self.staged:
            drop = staged.drop
            highest = winners[drop.store_day]
            superseded_by = None
            if drop.delivery < highest:
                superseded_by = _folder_of(drop.store_code, drop.business_date, highest)
            for name, (ord_, facts) in staged.files.items():
                if superseded_by:
                    self.batch.stream(name).supersede(ord_, superseded_by)
                disposition = "superseded" if superseded_by else "landed"
                self.batch.register_file(facts, name, disposition)
            if not superseded_by:
                self.batch.append_manifest(DROPS_TABLE, DROPS_COLUMNS, [_manifest_row(staged)])
        for staging in self.stagings.values():
            staging.finish()
        _check_summaries(self.batch, self.stagings["transactions"], self.summaries)


def extract_pos(settings: Settings | None = None) -> dict[str, Any]:
    """Land new complete POS drops; returns the batch's counts (small, for XCom)."""
    settings = settings or load_settings()
    root = sources_root(settings)
    with open_batch("pos", settings) as batch:
        landed_folders = {path.rsplit("/", 1)[0] for path in batch.registered_files()}
        drops, incomplete = discover(batch, root, landed_folders)
        log_event("pos_drops_found", complete=len(drops), incomplete=incomplete)
        landed = _landed_drops(batch)
        winners: dict[tuple[str, str], int] = {}
        for store, day, delivery, _ in landed:
            winners[(store, day)] = max(winners.get((store, day), 0), delivery)
        loader = _DropLoader(batch, root)
        progress = Progress("pos", "drops", len(drops))
        for drop in drops:
            read = loader.load(drop)
            if read is not None:
                winners[drop.store_day] = max(winners.get(drop.store_day, 0), drop.delivery)
                rows = sum(prepared.read for _, _, prepared in read.files.values())
                progress.advance(files=len(read.files), rows=rows)
        loader.finish(winners)
        _supersede_landed(batch, landed, winners, dict(batch.contract.streams))
        progress.done()
    return batch.result


def _missing_required(contract: StreamContract, columns: list[str]) -> list[str]:
    present = set(columns)
    return [name for name in contract.required_fields if name not in present]


def _folder_of(store_code: str, business_date: str, delivery: int) -> str:
    day = business_date.replace("-", "")
    suffix = "" if delivery == 1 else f"_{delivery}"
    return f"pos/{store_code}/{day}{suffix}"


def _manifest_row(staged: _Staged) -> dict[str, Any]:
    drop = staged.drop
    return {
        "store_code": drop.store_code,
        "business_date": drop.business_date,
        "delivery": drop.delivery,
        "vendor": staged.vendor,
        **{f"{name}_sha256": facts.sha256 for name, (_, facts) in staged.files.items()},
        "_origin": drop.relative,
    }


def _supersede_landed(
    batch: Batch,
    landed: list[tuple[str, str, int, str]],
    winners: dict[tuple[str, str], int],
    streams: dict[str, StreamContract],
) -> None:
    for store, day, delivery, folder in landed:
        if delivery < winners[(store, day)]:
            winner = _folder_of(store, day, winners[(store, day)])
            for name, contract in streams.items():
                batch.supersede_landed(name, f"{folder}/{contract.options['file_name']}", winner)


def _check_summaries(
    batch: Batch, staging: CsvStaging, summaries: list[tuple[int, str, int, str]]
) -> None:
    """Record each vendor B summary line and compare its figures with the file's rows."""
    if not summaries:
        return
    contract = staging.stream.contract
    amount_fields = [f.name for f in contract.fields if f.type == "decimal"]
    figures = staging.figures([ord_ for ord_, *_ in summaries], amount_fields)
    for ord_, origin, line, text in summaries:
        if not text:
            batch.control_total(
                "transactions", origin, None, None, "summary", None, None, "missing"
            )
            continue
        count, sums = figures.get(ord_, (0, {}))
        values = next(csv.reader([text]))
        header = staging.columns_of(ord_)
        checked = False
        for column, value in zip(header[1:], values[1:], strict=False):
            value = value.strip()
            if not value:
                continue
            if column in sums:
                declared, computed = _decimal(value), sums[column]
                measure = f"sum({column})"
            elif value.isdigit():
                declared, computed, measure = Decimal(value), Decimal(count), "rows"
            else:
                batch.control_total(
                    "transactions", origin, line, text, column, value, None, "unchecked"
                )
                continue
            checked = True
            status = "match" if declared is not None and declared == computed else "mismatch"
            shown = computed.quantize(declared) if declared is not None else computed
            batch.control_total(
                "transactions", origin, line, text, measure, value, str(shown), status
            )
            if status == "mismatch":
                log_event(
                    "control_total_mismatch",
                    origin=origin,
                    measure=measure,
                    declared=value,
                    computed=str(computed),
                )
        if not checked:
            batch.control_total(
                "transactions", origin, line, text, "summary", None, None, "unchecked"
            )


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except InvalidOperation:
        return None
