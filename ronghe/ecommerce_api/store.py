"""The estate's e-commerce change logs, loaded once and indexed for paging.

Each JSON Lines file is a change log: every stored line is one version of an
object, served byte for byte as it was written. A dataset keeps the file's
bytes and, per version, its position in (updated_at, id, line) order, so a
page is a slice of that order and costs no parsing at request time.
"""

from __future__ import annotations

import logging
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from ronghe.ecommerce_api.times import InvalidTimestampError, parse_utc_micros

log = logging.getLogger(__name__)

CONTRACT_PLATFORMS = ("MALL", "TMALL", "JD")
_UTF8_BOM = b"\xef\xbb\xbf"
_BLANKS = b" \t\r"


@dataclass(frozen=True)
class Resource:
    """One API collection and how its file is keyed."""

    name: str
    id_field: str
    per_platform: bool
    """Served per `platform=` (a file per platform folder) or estate-wide."""
    filters_by_updated_since: bool


RESOURCES: dict[str, Resource] = {
    resource.name: resource
    for resource in (
        Resource("orders", "order_id", per_platform=True, filters_by_updated_since=True),
        Resource("customers", "buyer_id", per_platform=True, filters_by_updated_since=True),
        Resource("listings", "platform_sku", per_platform=True, filters_by_updated_since=False),
        Resource("coupons", "coupon_code", per_platform=False, filters_by_updated_since=True),
    )
}


class EstateLoadError(ValueError):
    """The estate's e-commerce files cannot be served as the contract describes."""


_Span = tuple[int, str, int, int, int]
"""(updated_at micros, id, line number, start offset, end offset) of one stored object."""


class Dataset:
    """One change log in (updated_at, id, line) order."""

    def __init__(self, path: Path | None, content: bytes, spans: list[_Span]):
        # Line numbers are unique, so plain tuple order is (updated_at, id, line) order.
        spans.sort()
        self.path = path
        self._content = content
        columns = list(zip(*spans, strict=True)) or [(), (), (), (), ()]
        self.updated_micros = array("q", columns[0])
        self._starts = array("q", columns[3])
        self._ends = array("q", columns[4])

    @classmethod
    def empty(cls) -> Dataset:
        return cls(None, b"", [])

    @classmethod
    def load(cls, path: Path, id_field: str) -> Dataset:
        content = path.read_bytes()
        return cls(path, content, list(_index_lines(path, content, id_field)))

    def __len__(self) -> int:
        return len(self.updated_micros)

    def first_position_since(self, micros: int) -> int:
        """The position of the first version with updated_at >= micros."""
        return bisect_left(self.updated_micros, micros)

    def rows(self, start: int, stop: int) -> list[bytes]:
        """The stored JSON objects at positions [start, stop), as written."""
        content, starts, ends = self._content, self._starts, self._ends
        return [content[starts[i] : ends[i]] for i in range(start, min(stop, len(self)))]


def _index_lines(path: Path, content: bytes, id_field: str) -> Iterator[_Span]:
    """Yield the span of each object in the file; blank lines are skipped."""
    view = memoryview(content)  # slices of a memoryview parse without copying the line
    start = len(_UTF8_BOM) if content.startswith(_UTF8_BOM) else 0
    size = len(content)
    line_number = 0
    while start < size:
        line_number += 1
        newline = content.find(b"\n", start)
        line_end = size if newline < 0 else newline
        stop = line_end
        while start < stop and content[start] in _BLANKS:
            start += 1
        while stop > start and content[stop - 1] in _BLANKS:
            stop -= 1
        next_start = line_end + 1
        if start == stop:
            start = next_start
            continue
        line = view[start:stop]
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise EstateLoadError(f"{path}:{line_number}: not a JSON object ({error})") from error
        if not isinstance(record, dict):
            raise EstateLoadError(
                f"{path}:{line_number}: expected a JSON object, got {type(record).__name__}"
            )
        key = record.get(id_field)
        if not isinstance(key, str) or not key:
            raise EstateLoadError(
                f"{path}:{line_number}: `{id_field}` must be a non-empty string, got {key!r}"
            )
        try:
            updated = parse_utc_micros(record.get("updated_at"))
        except InvalidTimestampError as error:
            raise EstateLoadError(
                f"{path}:{line_number}: `updated_at` orders the change feed and must be "
                f"a date-time: {error}"
            ) from error
        yield updated, key, line_number, start, stop
        start = next_start


class Estate:
    """Every e-commerce dataset of one estate folder, keyed by (resource, platform)."""

    def __init__(self, root: Path, datasets: dict[tuple[str, str | None], Dataset]):
        self.root = root
        self.platforms = sorted({platform for _, platform in datasets if platform})
        self._datasets = datasets

    @classmethod
    def load(cls, sources_dir: str | Path) -> Estate:
        root = Path(sources_dir) / "ecommerce"
        if not root.is_dir():
            raise EstateLoadError(f"{root} does not exist: not an estate with e-commerce data")
        platforms = sorted(
            {*CONTRACT_PLATFORMS, *(child.name for child in root.iterdir() if child.is_dir())}
        )
        datasets: dict[tuple[str, str | None], Dataset] = {}
        for resource in RESOURCES.values():
            folders = [(platform, root / platform) for platform in platforms]
            for platform, folder in folders if resource.per_platform else [(None, root)]:
                datasets[resource.name, platform] = _load_or_empty(
                    folder / f"{resource.name}.jsonl", resource
                )
        return cls(root, datasets)

    def dataset(self, resource: str, platform: str | None) -> Dataset:
        return self._datasets[resource, platform]

    def counts(self) -> dict[str, int]:
        """Stored versions per dataset, for the health check and the start-up log."""
        return {
            f"{resource}/{platform}" if platform else resource: len(dataset)
            for (resource, platform), dataset in sorted(
                self._datasets.items(), key=lambda item: (item[0][0], item[0][1] or "")
            )
        }


def _load_or_empty(path: Path, resource: Resource) -> Dataset:
    if not path.is_file():
        log.warning("no %s at %s: serving it as empty", resource.name, path)
        return Dataset.empty()
    return Dataset.load(path, resource.id_field)
