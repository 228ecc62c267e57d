"""Writing the estate: files change only when their content changes.

Extending an estate by a day rewrites only what that day changes, so files
describing earlier days keep their bytes and their mtimes.
"""

from __future__ import annotations

import filecmp
import json
import os
from pathlib import Path

ESTATE_DIRS = ("erp", "pos", "wms", "ecommerce", "_truth")


class EstateFiles:
    """Writes files under an estate root.

    With `track_stale`, it remembers every path it writes so `remove_stale`
    can delete what an earlier, different estate left in the folder. A fresh
    folder, or the same estate extended by more days, needs no tracking (the
    prefix property guarantees nothing becomes stale), which keeps memory
    flat for very large estates.
    """

    def __init__(self, root: Path, track_stale: bool = True) -> None:
        self.root = root
        self.track_stale = track_stale
        self.written: set[str] = set()
        self.changed = 0
        self._dirs: set[str] = set()

    def write(self, relpath: str, data: bytes) -> None:
        path = os.path.join(self.root, relpath)
        if self.track_stale:
            self.written.add(relpath)
        try:
            if os.path.getsize(path) == len(data):
                with open(path, "rb") as handle:
                    if handle.read() == data:
                        return
        except FileNotFoundError:
            self._mkdir(os.path.dirname(relpath))
            with open(path, "xb") as handle:
                handle.write(data)
            self.changed += 1
            return
        # Replace, never rewrite in place: a reader never sees a half-written file.
        tmp = path + ".partial"
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        self.changed += 1

    def _mkdir(self, reldir: str) -> None:
        if reldir not in self._dirs:
            os.makedirs(os.path.join(self.root, reldir), exist_ok=True)
            self._dirs.add(reldir)

    def ensure_dir(self, relpath: str) -> None:
        self._mkdir(relpath.rstrip("/"))
        if self.track_stale:
            self.written.add(relpath.rstrip("/") + "/")

    def stream(self, relpath: str) -> StreamedFile:
        """A file written in pieces; it replaces the existing one on close only if different."""
        return StreamedFile(self, self.root / relpath)

    def remove_stale(self) -> None:
        """Delete files of an earlier estate in this folder that this estate does not have."""
        if not self.track_stale:
            return
        for top in ESTATE_DIRS:
            base = self.root / top
            if not base.exists():
                continue
            for dirpath, _, filenames in os.walk(base, topdown=False):
                rel_dir = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
                for name in filenames:
                    rel = f"{rel_dir}/{name}"
                    if rel not in self.written:
                        os.remove(os.path.join(dirpath, name))
                if not os.listdir(dirpath) and f"{rel_dir}/" not in self.written:
                    os.rmdir(dirpath)


class StreamedFile:
    def __init__(self, files: EstateFiles, path: Path) -> None:
        files.written.add(os.path.relpath(path, files.root).replace(os.sep, "/"))
        self._files = files
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = path.with_name(path.name + ".partial")
        self._handle = self._tmp.open("wb")

    def write(self, data: bytes) -> None:
        self._handle.write(data)

    def close(self) -> None:
        self._handle.close()
        if self._path.exists() and filecmp.cmp(self._tmp, self._path, shallow=False):
            self._tmp.unlink()
            return
        os.replace(self._tmp, self._path)
        self._files.changed += 1


def needs_stale_tracking(root: Path, identity: dict[str, object], days: int) -> bool:
    """True unless `root` is empty of estate folders or holds this same estate over fewer days."""
    if not any((root / top).exists() for top in ESTATE_DIRS):
        return False
    try:
        previous = json.loads((root / "_truth" / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return True
    same = all(previous.get(key) == value for key, value in identity.items())
    return not same or int(previous.get("days", days + 1)) > days
