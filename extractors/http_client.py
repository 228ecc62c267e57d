"""HTTP for source APIs: bounded retries with exponential backoff and jitter.

Retries are urllib3's `Retry`, mounted on a requests session, so a request is
retried inside the transport on 429, 5xx and connection failures, waiting for
`Retry-After` when the server sends one. Its stock backoff retries the first
failure at once and adds jitter only later; `_JitteredRetry` waits from the
first retry and spreads every wait, so parallel clients do not retry in step.
What is not retried (4xx such as 401 or 410) comes back to the caller.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    """Attempts per request, the first included, before giving up with an error."""
    backoff_seconds: float = 0.5
    """Base wait before the first retry; doubles on each further retry (then jittered)."""
    backoff_max_seconds: float = 30.0
    retry_after_max_seconds: int = 300
    """Longest `Retry-After` honoured; a larger announced wait is cut to this."""
    timeout_seconds: float = 60.0
    """Connect and read timeout of one attempt."""


class _JitteredRetry(Retry):
    def get_backoff_time(self) -> float:
        failures = len(self.history)
        if failures == 0:
            return 0.0
        base = self.backoff_factor * 2 ** (failures - 1)
        return min(self.backoff_max, base * (0.5 + random.random()))


def retrying_session(policy: RetryPolicy) -> requests.Session:
    """A session that retries GETs on 429, 5xx and connection errors, as `policy` says."""
    retry = _JitteredRetry(
        total=policy.max_attempts - 1,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRIED_STATUSES,
        backoff_factor=policy.backoff_seconds,
        backoff_max=policy.backoff_max_seconds,
        retry_after_max=policy.retry_after_max_seconds,
        respect_retry_after_header=True,
        raise_on_status=True,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def retries_of(response: requests.Response) -> list[str]:
    """What each retry of the request that produced `response` answered to (status or error)."""
    retries = getattr(response.raw, "retries", None)
    if retries is None:
        return []
    return [
        str(attempt.status) if attempt.status else type(attempt.error).__name__
        for attempt in retries.history
    ]
