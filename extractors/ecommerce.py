"""E-commerce extractor: the platforms' API into `raw.ecom_*` (contract: sources/ecommerce.yml).

Every collection is walked page by page with the API's cursors, per platform
where the API is per platform. Incremental collections start from the stored
`updated_since` watermark (inclusive), so each run re-reads the versions at
its watermark; they, and anything read twice, are counted as duplicates
(`dedup: versions`), never appended twice.

- Transient failures (429 after its Retry-After, 5xx, connection errors) are
  retried with backoff and jitter, a bounded number of times (`retry` in the
  contract file).
- `410 Gone` (an expired cursor) restarts the walk from the newest
  `updated_at` it had read: everything older was already returned, and the
  versions at that instant are read again and counted as duplicates.
- Orders land in three tables (the order, its items, its coupon codes). An
  order version that breaks the contract (a required field missing, a number
  or time that does not parse, items or coupons that are not lists) is
  quarantined whole, in all three, with its raw JSON and the reasons.
- A field the contract does not know is landed as a new column and reported
  as schema drift.
- The watermark moves to the newest `updated_at` read and is committed in the
  same transaction as the rows. When the API fails for good (attempts
  exhausted, 401, another error), the walk stops, everything read so far is
  committed with the watermark it supports, and then the run fails with the
  reason (401 names the token setting).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from extractors.contracts import SourceContract
from extractors.ecommerce_client import (
    ApiAuthError,
    CursorGoneError,
    EcommerceApiClient,
    EcommerceApiError,
    Page,
)
from extractors.ecommerce_rows import land_pages
from extractors.events import Progress, log_event
from extractors.http_client import RetryPolicy
from extractors.landing import Batch, open_batch
from ronghe.settings import Settings, load_settings

SOURCE = "ecommerce"
DEFAULT_MAX_CURSOR_RESTARTS = 20
CHUNK_OBJECTS = 5_000
"""Objects read before they are handed to the batch (each hand-over has a fixed cost)."""


@dataclass(frozen=True)
class Walk:
    """One page walk: a collection, for one platform where the API is per platform."""

    stream: str
    endpoint: str
    platform: str | None
    incremental: bool

    @property
    def state_name(self) -> str:
        return f"updated_since.{self.platform}" if self.platform else "updated_since"

    @property
    def label(self) -> str:
        return f"{self.stream}/{self.platform}" if self.platform else self.stream


@dataclass
class WalkStats:
    pages: int = 0
    objects: int = 0
    restarts: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    """Retried attempts by what they answered (`429`, `503`, `ConnectionError`...)."""


def walks(contract: SourceContract) -> Iterator[Walk]:
    """Every page walk the contract declares, in file order."""
    for stream in contract.streams.values():
        endpoint = stream.options.get("endpoint")
        if endpoint is None:
            continue  # filled from its parent's objects (order items and coupons)
        platforms = contract.options["platforms"] if stream.options["per_platform"] else [None]
        for platform in platforms:
            yield Walk(stream.name, endpoint, platform, bool(stream.options["incremental"]))


def _connection(settings: Settings) -> tuple[str, str]:
    if not settings.ecom_api_url:
        raise EcommerceApiError(
            "RONGHE_ECOM_API_URL is not set: the e-commerce extractor needs the API's base URL"
        )
    if not settings.ecom_api_token:
        raise ApiAuthError("RONGHE_ECOM_API_TOKEN is not set: the e-commerce API needs a token")
    return settings.ecom_api_url, settings.ecom_api_token


def extract_ecommerce(
    settings: Settings | None = None,
    retry_policy: RetryPolicy | None = None,
    page_size: int | None = None,
) -> dict[str, Any]:
    """Land what changed on the e-commerce platforms; returns the batch's counts (for XCom).

    `retry_policy` and `page_size` override the contract file's `retry` and `page_size`.
    """
    settings = settings or load_settings()
    base_url, token = _connection(settings)
    failure: EcommerceApiError | None = None
    stats: dict[str, WalkStats] = {}
    with open_batch(SOURCE, settings) as batch:
        options = batch.contract.options
        client = EcommerceApiClient(
            base_url, token, retry_policy or RetryPolicy(**options.get("retry", {}))
        )
        limits = _WalkLimits(
            page_size=page_size or int(options.get("page_size", 500)),
            max_restarts=int(options.get("max_cursor_restarts", DEFAULT_MAX_CURSOR_RESTARTS)),
        )
        try:
            for walk in walks(batch.contract):
                stats[walk.label] = WalkStats()
                _walk(client, batch, walk, limits, stats[walk.label])
        except EcommerceApiError as error:
            # Keep what was read in full pages (the watermark covers exactly
            # those), commit it, then fail the run with the reason.
            failure = error
            log_event("api_failed", source=SOURCE, error=str(error))
        finally:
            client.close()
    if failure is not None:
        raise failure
    batch.result["api"] = {
        label: {"pages": s.pages, "restarts": s.restarts, "retries": dict(s.retries)}
        for label, s in stats.items()
    }
    return batch.result


@dataclass(frozen=True)
class _WalkLimits:
    page_size: int
    max_restarts: int
    """Expired cursors one walk may meet before the run gives up."""


def _walk(
    client: EcommerceApiClient, batch: Batch, walk: Walk, limits: _WalkLimits, stats: WalkStats
) -> None:
    since = batch.get_state(walk.stream, walk.state_name) if walk.incremental else None
    progress = Progress(SOURCE, walk.label, 0)
    pending: list[Page] = []  # full pages read, not yet handed to the batch
    pending_objects = 0
    try:
        for page, newest in _pages(client, walk, since, limits, stats):
            pending.append(page)
            pending_objects += len(page.objects)
            if pending_objects >= CHUNK_OBJECTS:
                land_pages(batch, walk.stream, pending)
                pending, pending_objects = [], 0
            if walk.incremental and newest is not None:
                batch.set_state(walk.stream, walk.state_name, newest[1])
            progress.advance(files=1, rows=len(page.objects))
    except EcommerceApiError:
        land_pages(batch, walk.stream, pending)  # what was read in full pages is kept
        raise
    land_pages(batch, walk.stream, pending)
    progress.done()
    log_event(
        "walk_done",
        source=SOURCE,
        walk=walk.label,
        updated_since=since,
        pages=stats.pages,
        objects=stats.objects,
        restarts=stats.restarts,
        retries=dict(stats.retries),
    )


def _pages(
    client: EcommerceApiClient,
    walk: Walk,
    since: str | None,
    limits: _WalkLimits,
    stats: WalkStats,
) -> Iterator[tuple[Page, tuple[datetime, str] | None]]:
    """The walk's pages, each with the newest updated_at read so far.

    After `410 Gone` the walk starts again from that newest updated_at (or
    from the beginning when the collection has no updated_since): everything
    older was already read, the versions at that instant are read again.
    """
    newest: tuple[datetime, str] | None = None
    start_since, cursor = since, None
    while True:
        params = {"platform": walk.platform, "updated_since": start_since}
        params = {name: value for name, value in params.items() if value is not None}
        params["page_size"] = str(limits.page_size)
        if cursor is not None:
            params["cursor"] = cursor
        try:
            page = client.page(walk.endpoint, params)
        except CursorGoneError as gone:
            stats.restarts += 1
            if stats.restarts > limits.max_restarts:
                raise EcommerceApiError(
                    f"{walk.label}: cursors expired {stats.restarts} times in one walk; "
                    f"last: {gone}"
                ) from gone
            if walk.incremental and newest is not None:
                start_since = newest[1]
            cursor = None
            log_event("walk_restarted", source=SOURCE, walk=walk.label, updated_since=start_since)
            continue
        stats.pages += 1
        stats.objects += len(page.objects)
        stats.retries.update(page.retries)
        newest = _newest(page, newest)
        yield page, newest
        cursor = page.next_cursor
        if cursor is None:
            return


def _newest(page: Page, newest: tuple[datetime, str] | None) -> tuple[datetime, str] | None:
    """The newest updated_at seen so far, as a moment and as the text the API wrote."""
    for value in page.objects:
        text = value.get("updated_at") if isinstance(value, dict) else None
        if type(text) is not str:
            continue  # not a time (a number is a `JsonNumber`): quarantined, it cannot move it
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            continue  # such an object is quarantined; it cannot move the watermark
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # the API's times are UTC
        if newest is None or moment > newest[0]:
            newest = (moment, text)
    return newest
