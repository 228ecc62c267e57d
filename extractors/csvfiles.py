"""Many small CSV files into one stream: Python frames the records, DuckDB parses them.

Python reads each file once (it is hashed anyway), decodes it when it is not
UTF-8 (GBK cannot be read by DuckDB without an extension), maps the header to
the contract's names, sets a trailing summary line apart, and writes every
record prefixed with its origin number and physical line number into one
combined file per header layout. DuckDB then parses the combined file in one
parallel `read_csv`, rejecting malformed records into a rejects table. Line
numbers therefore come from the source file itself, and reading thousands of
small files costs one scan instead of one per file.

A record is one physical line unless a quoted field spans lines (RFC 4180).
Blank lines hold no row and are not counted. Files containing a quote
character go to a combined file of their own, so a malformed quote can never
run into another file's records.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from pathlib import Path
from typing import BinaryIO

from extractors.contracts import StreamContract
from extractors.landing import RESERVED_COLUMNS, StreamLanding
from extractors.sinks import quote

UTF8_BOM = b"\xef\xbb\xbf"
_QUOTE = 0x22
_COMMA = 0x2C


class DeliveryError(ValueError):
    """A file cannot be taken at all (its header is unusable); the delivery is rejected."""


@dataclass
class PreparedCsv:
    """One file, decoded to UTF-8 and framed into records, ready for staging."""

    encoding: str
    """`utf-8` or `gb18030` (a superset of GBK that decodes every GBK file the same)."""
    columns: list[str]
    """Header names mapped to the contract's names, in file order; empty for an empty file."""
    aliased: bool
    """The header used alias names (vendor B's Chinese headers)."""
    lines: list[bytes] = field(default_factory=list)
    """The records, UTF-8, without line ends."""
    numbers: list[int] | None = None
    """Each record's first line number; None when they are lines 2, 3, ... in order."""
    undecodable: list[tuple[int, str]] = field(default_factory=list)
    """Lines whose bytes are not valid in the file's encoding, with their text as best shown."""
    summary: tuple[int, str] | None = None
    """The trailing summary line (line number, text), set apart from the records."""
    quoted: bool = False

    @property
    def read(self) -> int:
        return len(self.lines) + len(self.undecodable)

    @property
    def records(self) -> list[tuple[int, bytes]]:
        numbers = self.numbers or range(2, 2 + len(self.lines))
        return list(zip(numbers, self.lines, strict=True))


def _quote_open_after(segment: bytes, in_quotes: bool) -> bool:
    """Whether a quoted field is still open at the end of `segment` (RFC 4180 rules)."""
    field_start = not in_quotes
    i, n = 0, len(segment)
    while i < n:
        byte = segment[i]
        if in_quotes:
            if byte == _QUOTE:
                if i + 1 < n and segment[i + 1] == _QUOTE:
                    i += 2
                    continue
                in_quotes = False
        elif byte == _QUOTE and field_start:
            in_quotes = True
        else:
            field_start = byte == _COMMA
        i += 1
    return in_quotes


def split_records(lines: Sequence[bytes], first_line: int) -> list[tuple[int, bytes]]:
    """Non-blank records of `lines` (split on LF, CR still attached), each with its first line."""
    records: list[tuple[int, bytes]] = []
    i, n = 0, len(lines)
    while i < n:
        start = i
        if b'"' in lines[i] and _quote_open_after(lines[i], False):
            while i + 1 < n:
                i += 1
                if not _quote_open_after(lines[i], True):
                    break
        record = b"\n".join(lines[start : i + 1])
        if record.endswith(b"\r"):
            record = record[:-1]
        if record.strip(b" \t"):
            records.append((first_line + start, record))
        i += 1
    return records


def _decode_header(line: bytes) -> tuple[str, str]:
    try:
        return line.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            return line.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as error:
            raise DeliveryError(f"the header is neither UTF-8 nor GBK text ({error})") from None


# A line holding nothing but blanks (it is no record); found with one scan of the body.
_BLANK_LINE = re.compile(rb"(?:^|\n)[ \t\r]*(?:\n|$)")
_HEADERS: dict[tuple[str, str, bytes], tuple[list[str], bool, str]] = {}
_LINE_NUMBERS: list[bytes] = [b"%d," % n for n in range(10_000)]


def _read_header(contract: StreamContract, line: bytes) -> tuple[list[str], bool, str]:
    """(mapped columns, aliased, encoding) of a header line; cached, files share headers."""
    key = (contract.source, contract.name, line)
    if key not in _HEADERS:
        text, encoding = _decode_header(line)
        names = [name.strip() for name in next(csv.reader([text]))]
        mapping = contract.header_map()
        columns = [mapping.get(name, name) for name in names]
        if len(set(columns)) != len(columns) or "" in columns:
            raise DeliveryError(f"the header has empty or repeated column names: {names}")
        reserved = RESERVED_COLUMNS | {name for name, _ in contract.extras}
        if reserved & set(columns):
            raise DeliveryError(
                f"the header uses reserved column names: {sorted(reserved & set(columns))}"
            )
        aliased = any(name != mapped for name, mapped in zip(names, columns, strict=True))
        _HEADERS[key] = (columns, aliased, encoding)
    columns, aliased, encoding = _HEADERS[key]
    return list(columns), aliased, encoding


def prepare_csv(data: bytes, contract: StreamContract) -> PreparedCsv:
    """Decode, map the header and frame the records of one CSV file.

    The common file (no quote character, no blank line, one line ending
    throughout) is framed with whole-buffer byte operations; others go line by line.
    """
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    end = data.find(b"\n")
    header, body = (data, b"") if end < 0 else (data[:end], data[end + 1 :])
    if not header.strip(b"\r \t"):
        if body.strip(b"\r\n \t"):
            raise DeliveryError("the first line is empty: the header is missing")
        return PreparedCsv(encoding="utf-8", columns=[], aliased=False)
    columns, aliased, encoding = _read_header(contract, header.rstrip(b"\r"))
    prepared = PreparedCsv(encoding=encoding, columns=columns, aliased=aliased)
    if encoding != "utf-8":
        body = _transcode(body, encoding, prepared)
    if body.endswith(b"\n"):
        body = body[:-1]
    if not body:
        return prepared
    prepared.quoted = b'"' in body
    crlf = body.count(b"\r\n")
    if not prepared.quoted and crlf in (0, body.count(b"\n")) and not _BLANK_LINE.search(body):
        text = body[:-1] if body.endswith(b"\r") else body
        prepared.lines = text.split(b"\r\n") if crlf else text.split(b"\n")
    else:
        records = split_records(body.split(b"\n"), 2)
        prepared.numbers = [number for number, _ in records]
        prepared.lines = [record for _, record in records]
    marker = contract.options.get("summary_first_field")
    if marker and prepared.lines:
        last = prepared.lines[-1]
        first_field = next(csv.reader([last.decode("utf-8", "replace")]), [""])[0]
        if first_field.strip() == marker:
            prepared.lines.pop()
            number = prepared.numbers.pop() if prepared.numbers else len(prepared.lines) + 2
            prepared.summary = (number, last.decode("utf-8", "backslashreplace"))
    return prepared


def _transcode(body: bytes, encoding: str, prepared: PreparedCsv) -> bytes:
    """The body re-encoded as UTF-8; undecodable lines are set aside (and blanked here)."""
    try:
        return body.decode(encoding).encode("utf-8")
    except UnicodeDecodeError:
        out = []
        for number, line in enumerate(body.split(b"\n"), 2):
            try:
                out.append(line.decode(encoding).encode("utf-8"))
            except UnicodeDecodeError as error:
                text = line.rstrip(b"\r").decode(encoding, "backslashreplace")
                prepared.undecodable.append((number, f"{text}\t({error.reason})"))
                out.append(b"")
        return b"\n".join(out)


@dataclass
class _Layout:
    """Combined files for one header layout (column list)."""

    columns: list[str]
    shared: Path
    handle: BinaryIO
    own_files: list[Path] = field(default_factory=list)


class CsvStaging:
    """Collects the CSV files of one stream in a batch and stages them in DuckDB."""

    def __init__(self, stream: StreamLanding) -> None:
        self.stream = stream
        self.workdir = stream.batch.workdir
        self._layouts: dict[tuple[str, ...], _Layout] = {}
        self._files: dict[int, tuple[Path, str]] = {}
        self._columns: dict[int, list[str]] = {}
        self._parsed: list[tuple[str, list[str]]] = []
        self._counter = 0

    def _new_path(self) -> Path:
        self._counter += 1
        return self.workdir / f"{self.stream.name}-{self._counter}.csv"

    def _layout(self, columns: list[str]) -> _Layout:
        key = tuple(columns)
        if key not in self._layouts:
            path = self._new_path()
            handle = path.open("wb")
            handle.write(_header(columns))
            self._layouts[key] = _Layout(columns, path, handle)
        return self._layouts[key]

    def add(self, ord_: int, path: Path, prepared: PreparedCsv) -> None:
        """Stage one prepared file as origin `ord_` (re-read from `path` for quarantine text)."""
        self._files[ord_] = (path, prepared.encoding)
        self._columns[ord_] = prepared.columns
        for number, text in prepared.undecodable:
            self.stream.quarantine(ord_, number, text, "bytes are not valid in the file's encoding")
        if not prepared.lines:
            return
        layout = self._layout(prepared.columns)
        count = len(prepared.lines)
        if prepared.numbers is None:
            if len(_LINE_NUMBERS) < count + 2:
                _LINE_NUMBERS.extend(b"%d," % n for n in range(len(_LINE_NUMBERS), count + 2))
            numbers = _LINE_NUMBERS[2 : count + 2]
        else:
            numbers = [b"%d," % n for n in prepared.numbers]
        # `<ord>,<line>,<record>\n` for every record, joined in C.
        chunk = b"".join(
            map(b"".join, zip(repeat(b"%d," % ord_), numbers, prepared.lines, repeat(b"\n")))
        )
        if prepared.quoted:
            own = self._new_path()
            own.write_bytes(_header(prepared.columns) + chunk)
            layout.own_files.append(own)
        else:
            layout.handle.write(chunk)

    def finish(self) -> None:
        """Parse every combined file with DuckDB and hand rows and rejects to the stream."""
        staging = self.stream.batch.staging
        batch = self.stream.batch
        for layout in self._layouts.values():
            layout.handle.close()
            files = [str(layout.shared), *map(str, layout.own_files)]
            types = {"_ord": "INTEGER", "_origin_line": "BIGINT"} | dict.fromkeys(
                layout.columns, "VARCHAR"
            )
            rejects, scans, parsed = (
                batch.temp_name("rejects"),
                batch.temp_name("scans"),
                batch.temp_name("csv"),
            )
            staging.execute(
                f"""CREATE TEMP TABLE {parsed} AS SELECT * FROM read_csv(?, header = true,
                    auto_detect = false, columns = {_struct(types)}, delim = ',', quote = '"',
                    escape = '"', new_line = '\\n', strict_mode = true, null_padding = false,
                    force_not_null = ?, store_rejects = true, rejects_table = '{rejects}',
                    rejects_scan = '{scans}', max_line_size = 16777216)""",
                [files, layout.columns],
            )
            self.stream.add_rows(f"SELECT * FROM {parsed}")
            self._parsed.append((parsed, layout.columns))
            expected = len(layout.columns)
            for csv_line, error_type in staging.execute(
                f"SELECT any_value(csv_line), min(error_type::VARCHAR) FROM {rejects} "
                "GROUP BY file_id, line"
            ).fetchall():
                ord_, number = _prefix(csv_line)
                self.stream.quarantine(ord_, number, None, _reject_reason(error_type, expected))
        self.stream.set_raw_text_lookup(self._raw_texts)

    def columns_of(self, ord_: int) -> list[str]:
        """The (mapped) header of an origin's file."""
        return self._columns[ord_]

    def figures(
        self, ords: list[int], amount_fields: list[str]
    ) -> dict[int, tuple[int, dict[str, Decimal]]]:
        """Per origin: distinct parsed rows and the sum of each amount field over them.

        Distinct, because a till retry repeats a row the till itself counted once.
        Call after `finish`.
        """
        wanted = ", ".join(str(o) for o in ords) or "NULL"
        parts = []
        for table, columns in self._parsed:
            sums = [
                f"try_cast(trim({quote(f)}) AS DECIMAL(38, 4)) AS {quote(f)}"
                if f in columns
                else f"CAST(NULL AS DECIMAL(38, 4)) AS {quote(f)}"
                for f in amount_fields
            ]
            distinct = ", ".join(["_ord", *(quote(c) for c in columns)])
            parts.append(
                f"SELECT _ord, {', '.join(sums)} FROM (SELECT DISTINCT {distinct} FROM {table} "
                f"WHERE _ord IN ({wanted}))"
            )
        if not parts:
            return {}
        totals = ", ".join(f"sum({quote(f)})" for f in amount_fields)
        rows = self.stream.batch.staging.execute(
            f"SELECT _ord, count(*), {totals} FROM ({' UNION ALL '.join(parts)}) GROUP BY _ord"
        ).fetchall()
        return {
            row[0]: (
                int(row[1]),
                {
                    f: Decimal(v if v is not None else 0)
                    for f, v in zip(amount_fields, row[2:], strict=True)
                },
            )
            for row in rows
        }

    def _raw_texts(self, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """The exact text of the given records, read again from their files."""
        by_ord: dict[int, set[int]] = {}
        for ord_, number in wanted:
            by_ord.setdefault(ord_, set()).add(number)
        texts: dict[tuple[int, int], str] = {}
        for ord_, numbers in by_ord.items():
            path, encoding = self._files[ord_]
            data = path.read_bytes()
            if data.startswith(UTF8_BOM):
                data = data[len(UTF8_BOM) :]
            lines = data.split(b"\n")
            for number, record in split_records(lines, 1):
                if number in numbers:
                    texts[(ord_, number)] = record.decode(encoding, "backslashreplace")
        return texts


def _header(columns: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(["_ord", "_origin_line", *columns])
    return out.getvalue().encode("utf-8")


def _struct(types: dict[str, str]) -> str:
    return (
        "{"
        + ", ".join(f"'{k.replace(chr(39), chr(39) * 2)}': '{v}'" for k, v in types.items())
        + "}"
    )


def _prefix(csv_line: str) -> tuple[int, int]:
    head = csv_line.lstrip("\r\n").split(",", 2)
    try:
        return int(head[0]), int(head[1])
    except (IndexError, ValueError):
        raise RuntimeError(
            f"a rejected CSV record lost its line prefix: {csv_line[:80]!r}"
        ) from None


def _reject_reason(error_type: str, expected: int) -> str:
    if error_type == "MISSING COLUMNS":
        return f"too few fields: expected {expected}"
    if error_type == "TOO MANY COLUMNS":
        return f"too many fields: expected {expected}"
    if error_type == "INVALID ENCODING":
        return "bytes are not valid UTF-8"
    if error_type == "UNQUOTED VALUE":
        return "text after a closing quote"
    return f"unparseable record ({error_type.lower()})"
