"""JSON Lines files into one stream, parsed by DuckDB with their exact line numbers.

The files' bytes (read once in Python, where they are hashed) are framed into
lines with vectorised byte scans and handed to DuckDB as Arrow string arrays
that share the file's buffer, so every row keeps its file and 1-based line and
no per-line Python object is made. Values land as the text the source wrote: strings
unescaped, `null` as NULL, `true`/`false` as written. DuckDB's JSON functions
re-print numbers (`1.50` would become `1.5`), so objects holding a number with a
fraction, an exponent or more than 15 digits are decoded in Python instead,
keeping each number's own digits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from extractors.landing import RESERVED_COLUMNS, StreamLanding, text_value
from extractors.sinks import quote

# A number token with a fraction, an exponent or 16+ digits (may also match inside
# a string, which only sends that object down the exact path needlessly). Matched
# per line by DuckDB's RE2, far faster than a Python scan of the whole file.
_INEXACT_NUMBER = r"[:\[,]\s*-?([0-9]+\.[0-9]|[0-9]+[eE]|[0-9]{16})"


_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 13, 32]] = True


def frame_lines(data: bytes) -> tuple[np.ndarray, pa.StringArray]:
    """Line numbers and texts (line ends removed) of the non-blank lines of UTF-8 `data`."""
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    if not data:
        return np.zeros(0, dtype=np.int64), pa.array([], pa.string())
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10) + 1
    if data[-1:] != b"\n":
        ends = np.append(ends, len(data))
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    texts = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))
    texts = pc.utf8_rtrim(texts, characters="\r\n").cast(pa.string())
    starts = offsets[:-1]
    # Only lines that start with a blank can be blank: check those few one by one.
    maybe_blank = np.flatnonzero(
        (starts == ends) | _WHITESPACE[buf[np.minimum(starts, len(buf) - 1)]]
    )
    blank = [i for i in maybe_blank if not data[starts[i] : ends[i]].strip(b" \t\r\n")]
    numbers = np.arange(1, len(ends) + 1, dtype=np.int64)
    if blank:
        keep = np.setdiff1d(np.arange(len(ends)), blank)
        return numbers[keep], texts.take(pa.array(keep))
    return numbers, texts


def _exact_values(text: str) -> dict[str, str | None]:
    obj = json.loads(text, parse_float=str, parse_int=str)
    return {key: text_value(value) for key, value in obj.items()}


class JsonlStaging:
    """Collects the JSON Lines files of one stream in a batch and stages them in DuckDB."""

    def __init__(self, stream: StreamLanding) -> None:
        self.stream = stream
        self.batch = stream.batch
        self._batches: list[pa.RecordBatch] = []

    def add(self, origin: str, path: Path, data: bytes) -> int:
        """Stage one file as a new origin (rows read: its non-blank lines); returns its number."""
        ord_ = self.stream.add_origin(origin, 0)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            data = self._without_undecodable(ord_, data)
        numbers, texts = frame_lines(data)
        self.stream.add_read(ord_, len(numbers))
        self._batches.append(
            pa.record_batch(
                [pa.array(np.full(len(numbers), ord_, dtype=np.int32)), pa.array(numbers), texts],
                names=["_ord", "_origin_line", "_raw"],
            )
        )
        return ord_

    def _without_undecodable(self, ord_: int, data: bytes) -> bytes:
        """The data with undecodable lines blanked (same line numbers); those are quarantined."""
        lines = data.split(b"\n")
        for number, line in enumerate(lines, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                text = line.rstrip(b"\r").decode("utf-8", "backslashreplace")
                self.stream.quarantine(ord_, number, text, "bytes are not valid UTF-8")
                self.stream.add_read(ord_, 1)
                lines[number - 1] = b""
        return b"\n".join(lines)

    def finish(self) -> dict[int, list[str]]:
        """Stage every file; returns the origins withdrawn, each with the reason to reject it."""
        if not self._batches:
            return {}
        staging = self.batch.staging
        # The lines stay in Arrow over the files' own buffers (outside DuckDB's memory
        # budget); the fields are parsed out of them only once, by the landing query.
        framed = self.batch.view_arrow(pa.Table.from_batches(self._batches))
        self._batches = []
        # One scan over the lines: the key lists the objects use (distinct per file: a
        # file's objects mostly share one), and the few lines not parsed by the landing
        # query: those that are not JSON objects (quarantined) and those holding inexact
        # numbers (decoded in Python).
        shapes = self.batch.temp_name("shapes")
        staging.execute(
            f"""CREATE TEMP TABLE {shapes} AS
            SELECT _ord, _kind, CASE WHEN _kind IS NULL OR _kind = 'exact' THEN _keys END AS _keys,
                   list(_origin_line) FILTER (_kind IS NOT NULL) AS _lines
            FROM (SELECT _ord, _origin_line, _keys, CASE
                    WHEN _keys IS NULL THEN 'not valid JSON'
                    WHEN NOT starts_with(ltrim(_raw), '{{') THEN 'not a JSON object'
                    WHEN regexp_matches(_raw, '{_INEXACT_NUMBER}') THEN 'exact'
                  END AS _kind
                  -- Listing the keys also validates: it fails (NULL) only on invalid JSON.
                  FROM (SELECT _ord, _origin_line, _raw, try(json_keys(_raw)) AS _keys
                        FROM {framed}))
            GROUP BY ALL"""
        )
        withdrawn = self._check_keys(shapes)
        set_apart = self.batch.temp_name("set_apart")
        staging.execute(
            f"CREATE TEMP TABLE {set_apart} AS SELECT _ord, unnest(_lines) AS _origin_line, "
            f"_kind FROM {shapes} WHERE _kind IS NOT NULL"
        )
        fields = list(self.stream.contract.field_names) + self.stream.drift_columns
        paths = ", ".join(
            "'$.\"" + name.replace("'", "''").replace('"', '\\"') + "\"'" for name in fields
        )
        extracted = ", ".join(f"_v[{i}] AS {quote(name)}" for i, name in enumerate(fields, 1))
        self.stream.add_rows(
            f"SELECT _ord, _origin_line, {extracted} FROM "
            f"(SELECT _ord, _origin_line, json_extract_string(_raw, [{paths}]) AS _v "
            f" FROM {framed} ANTI JOIN {set_apart} USING (_ord, _origin_line))"
        )
        self._add_exact(framed, set_apart, set(withdrawn))
        self.stream.add_rows(
            f"SELECT _ord, _origin_line, _kind AS _reason FROM {set_apart} WHERE _kind <> 'exact'"
        )
        self.stream.set_raw_text_lookup(lambda wanted: self._raw_texts(framed, wanted))
        return withdrawn

    def _check_keys(self, shapes: str) -> dict[int, str]:
        """Drift per file from the keys its objects use; files to reject, with the reason."""
        withdrawn: dict[int, str] = {}
        reserved = RESERVED_COLUMNS | {name for name, _ in self.stream.contract.extras}
        for ord_, keys in self.batch.staging.execute(
            f"SELECT _ord, list(DISTINCT k ORDER BY k) FROM "
            f"(SELECT _ord, unnest(_keys) AS k FROM {shapes} WHERE _keys IS NOT NULL) "
            "GROUP BY _ord ORDER BY _ord"
        ).fetchall():
            clashing = sorted(reserved.intersection(keys))
            missing = [] if clashing else self.stream.check_columns(ord_, keys)
            if clashing or missing:
                withdrawn[ord_] = (
                    f"objects use reserved key names: {', '.join(clashing)}"
                    if clashing
                    else f"no row carries the required fields: {', '.join(missing)}"
                )
                self.stream.withdraw(ord_)
        return withdrawn

    def _add_exact(self, framed: str, set_apart: str, withdrawn: set[int]) -> None:
        """Objects holding inexact numbers, decoded in Python to keep each number's digits."""
        rows = self.batch.staging.execute(
            f"SELECT f._ord, f._origin_line, f._raw FROM {framed} f SEMI JOIN "
            f"(SELECT _ord, _origin_line FROM {set_apart} WHERE _kind = 'exact') p "
            f"USING (_ord, _origin_line) ORDER BY 1, 2"
        ).fetchall()
        by_ord: dict[int, list[tuple[int, str]]] = {}
        for ord_, number, raw in rows:
            if ord_ not in withdrawn:
                by_ord.setdefault(ord_, []).append((number, raw))
        for ord_, items in by_ord.items():
            records: list[dict[str, Any]] = [_exact_values(raw) for _, raw in items]
            self.stream.add_records(
                ord_, records, lines=[n for n, _ in items], raw_texts=[raw for _, raw in items]
            )

    def _raw_texts(self, framed: str, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
        staging = self.batch.staging
        table = self.batch.stage_arrow(
            pa.table(
                {
                    "_ord": pa.array([w[0] for w in wanted], pa.int32()),
                    "_origin_line": pa.array([w[1] for w in wanted], pa.int64()),
                }
            )
        )
        return {
            (ord_, number): raw
            for ord_, number, raw in staging.execute(
                f"SELECT l._ord, l._origin_line, l._raw FROM {framed} l "
                f"JOIN {table} w USING (_ord, _origin_line)"
            ).fetchall()
        }
