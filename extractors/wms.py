"""WMS extractor: JSON Lines file drops into `raw.wms_*` (contract: sources/wms.yml).

A file is read when its content is new to the registry: a new path, or a known
path whose bytes changed (items.jsonl is re-sent whole every day; a file may
still have been growing when it was last read). Rows equal to the latest
version already landed count as duplicates, so a re-sent items file lands only
the items that changed, a movements re-delivery (`<hour>_2.jsonl`) lands only
the movements that were not there before, and a re-sent shipment lands only
when it changed. A file whose objects never carry a required field (or use a
key the landing framework reserves) is rejected whole: not registered, so it
is retried once fixed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extractors.events import Progress
from extractors.files import SourceFile
from extractors.jsonlfiles import JsonlStaging
from extractors.landing import Batch, FileFacts, open_batch
from ronghe.settings import Settings, load_settings


def sources_root(settings: Settings) -> Path:
    if settings.sources_dir is None:
        raise RuntimeError(
            "RONGHE_SOURCES_DIR is not set: the extractors need the source drop's root"
        )
    return settings.sources_dir


CHUNK_ROWS = 2_000_000
"""Rows staged before they are landed (inside the same batch), to bound memory."""


def extract_wms(settings: Settings | None = None) -> dict[str, Any]:
    """Land new WMS files; returns the batch's counts (small, for XCom)."""
    settings = settings or load_settings()
    root = sources_root(settings)
    with open_batch("wms", settings) as batch:
        registered = batch.registered_files()
        for name, contract in batch.contract.streams.items():
            paths = sorted((root / "wms").glob(contract.options["pattern"]))
            _land_stream(batch, name, root, paths, registered)
    return batch.result


def _land_stream(
    batch: Batch, name: str, root: Path, paths: list[Path], registered: dict[str, FileFacts]
) -> None:
    stream = batch.stream(name)
    progress = Progress("wms", name, len(paths))
    chunk = _Chunk(batch, name)
    for path in paths:
        found = SourceFile.at(root, path)
        previous = registered.get(found.relative)
        if found.unchanged_since(previous):
            continue
        data, facts = found.read()
        if previous is not None and previous.sha256 == facts.sha256:
            # Touched but not changed: remember the new mtime, read nothing.
            batch.register_file(facts, name, "unchanged")
            continue
        ord_ = chunk.add(facts, path, data)
        progress.advance(files=1, rows=stream.origins[ord_].read)
        if chunk.rows >= CHUNK_ROWS:
            chunk.land()
            chunk = _Chunk(batch, name)
    chunk.land()
    progress.done()


class _Chunk:
    """Files of one stream staged together, then landed with `StreamLanding.flush`."""

    def __init__(self, batch: Batch, name: str) -> None:
        self.batch = batch
        self.name = name
        self.stream = batch.stream(name)
        self.mark = batch.temp_counter
        self.staging = JsonlStaging(self.stream)
        self.files: list[tuple[int, FileFacts]] = []
        self.rows = 0

    def add(self, facts: FileFacts, path: Path, data: bytes) -> int:
        ord_ = self.staging.add(facts.path, path, data)
        self.files.append((ord_, facts))
        self.rows += self.stream.origins[ord_].read
        return ord_

    def land(self) -> None:
        withdrawn = self.staging.finish()
        for ord_, facts in self.files:
            if ord_ in withdrawn:
                self.batch.reject(self.name, facts.path, withdrawn[ord_])
            else:
                self.batch.register_file(facts, self.name, "landed")
        self.stream.flush()
        self.batch.release_staging(self.mark)
