"""Source files: reading them once, fingerprinting them, and knowing what was landed.

A file is identified by its path relative to SOURCES_DIR and its SHA-256. The
registry (`ops.file_registry`) keeps the size and modification time too, so an
unchanged file is recognised from `stat` alone and incremental runs do not
re-read history.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileFacts:
    """A file as the registry knows it; `path` is relative to SOURCES_DIR."""

    path: str
    sha256: str
    size_bytes: int
    mtime_ns: int


@dataclass(frozen=True)
class SourceFile:
    """A file found under SOURCES_DIR: where it is and what `stat` says."""

    path: Path
    relative: str
    size_bytes: int
    mtime_ns: int

    @classmethod
    def at(cls, root: Path, path: Path) -> SourceFile:
        stat = path.stat()
        return cls(path, path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns)

    def unchanged_since(self, registered: FileFacts | None) -> bool:
        """True when the registry's latest entry for this path has the same size and mtime."""
        return (
            registered is not None
            and registered.size_bytes == self.size_bytes
            and registered.mtime_ns == self.mtime_ns
        )

    def read(self) -> tuple[bytes, FileFacts]:
        """The file's bytes and its facts for the registry (hash of exactly these bytes)."""
        return read_file(str(self.path), self.relative)


def read_file(path: str, relative: str) -> tuple[bytes, FileFacts]:
    """A file's bytes and its registry facts, from one open (mtime of the open file)."""
    with open(path, "rb") as handle:
        mtime_ns = os.fstat(handle.fileno()).st_mtime_ns
        data = handle.read()
    facts = FileFacts(
        path=relative,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        mtime_ns=mtime_ns,
    )
    return data, facts


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def list_dir(path: Path) -> list[os.DirEntry]:
    """Entries of a directory in name order (hidden ones left out); empty if it does not exist."""
    try:
        with os.scandir(path) as entries:
            return sorted((e for e in entries if not is_hidden(e.name)), key=lambda e: e.name)
    except FileNotFoundError:
        return []
