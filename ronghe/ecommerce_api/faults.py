"""Injected failures: throttling, server errors and expired cursors, on a seed.

Each decision is a hash of (seed, the logical request, how many times that
request was seen before), not a draw from a shared random stream. So the same
client behaviour meets the same faults on every run whatever the thread
interleaving, and a retried request gets a fresh draw and eventually passes.
Faults are decided before a page is built and never touch paging state: the
server keeps none beyond the cursor the client holds.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass
from enum import Enum


class Fault(Enum):
    THROTTLE = 429
    INTERNAL_ERROR = 500
    UNAVAILABLE = 503
    CURSOR_EXPIRED = 410


@dataclass(frozen=True)
class FaultRates:
    throttle: float = 0.0
    """Share of requests answered 429 with Retry-After."""
    server_error: float = 0.0
    """Share of requests answered 500 or 503."""
    expire_cursor: float = 0.0
    """Share of cursor requests (that were not throttled or failed) answered 410."""

    def __post_init__(self) -> None:
        for name in ("throttle", "server_error", "expire_cursor"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"the {name} rate must be between 0 and 1")
        if self.throttle + self.server_error > 1.0:
            raise ValueError("the throttle and server-error rates add up to more than 1")


class FaultInjector:
    def __init__(self, rates: FaultRates, seed: int):
        self.rates = rates
        self._seed = seed
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def decide(self, request_key: str, *, has_cursor: bool) -> Fault | None:
        """The fault to answer this request with, or None to serve it."""
        with self._lock:
            occurrence = self._seen[request_key]
            self._seen[request_key] += 1
        digest = hashlib.sha256(f"{self._seed}|{occurrence}|{request_key}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw < self.rates.throttle:
            return Fault.THROTTLE
        if draw < self.rates.throttle + self.rates.server_error:
            return Fault.INTERNAL_ERROR if digest[16] % 2 else Fault.UNAVAILABLE
        expiry_draw = int.from_bytes(digest[8:16], "big") / 2**64
        if has_cursor and expiry_draw < self.rates.expire_cursor:
            return Fault.CURSOR_EXPIRED
        return None
