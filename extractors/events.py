"""Structured logs: one JSON object per line through `logging`, and progress reports.

Airflow captures task logs line by line, so each event is one line that both a
person and a log search can read: `{"event": "batch_committed", "source": "pos", ...}`.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

log = logging.getLogger("ronghe.extractors")


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    log.log(level, json.dumps({"event": event, **fields}, ensure_ascii=False, default=str))


class Progress:
    """Logs how far a long extraction has come, at most every `every_seconds`."""

    def __init__(self, source: str, stream: str, total_files: int, every_seconds: float = 5.0):
        self.source = source
        self.stream = stream
        self.total_files = total_files
        self.files = 0
        self.rows = 0
        self._every = every_seconds
        self._started = time.monotonic()
        self._last = self._started

    def advance(self, files: int = 0, rows: int = 0) -> None:
        self.files += files
        self.rows += rows
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._report("progress")

    def done(self) -> None:
        self._report("stream_read")

    def _report(self, event: str) -> None:
        elapsed = time.monotonic() - self._started
        log_event(
            event,
            source=self.source,
            stream=self.stream,
            files=self.files,
            files_total=self.total_files,
            rows=self.rows,
            seconds=round(elapsed, 1),
        )
