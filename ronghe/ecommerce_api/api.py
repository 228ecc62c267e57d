"""The API's request logic, independent of the HTTP plumbing.

`EcommerceApi.handle` turns a GET (path, query string, Authorization header)
into a `Response`; `server.py` only moves bytes. Checks run in this order:
route, auth (401), parameters (400), injected throttling and server errors
(429/5xx), cursor expiry (410), then the page.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from ronghe.ecommerce_api.cursors import (
    CursorCodec,
    CursorExpiredError,
    InvalidCursorError,
    PagePosition,
)
from ronghe.ecommerce_api.faults import Fault, FaultInjector, FaultRates
from ronghe.ecommerce_api.store import RESOURCES, Estate, Resource
from ronghe.ecommerce_api.times import InvalidTimestampError, parse_utc_micros

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    rows: int = 0


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def response(self) -> Response:
        body = json.dumps({"error": self.code, "message": self.message}).encode()
        return Response(self.status, body, {"Content-Type": JSON_CONTENT_TYPE, **self.headers})


@dataclass(frozen=True)
class _PageRequest:
    resource: Resource
    platform: str | None
    since_micros: int | None
    page_size: int
    cursor: tuple[PagePosition, float] | None


class EcommerceApi:
    def __init__(
        self,
        estate: Estate,
        *,
        token: str,
        cursor_ttl_seconds: float = 600.0,
        fault_rates: FaultRates | None = None,
        retry_after_seconds: int = 1,
        seed: int = 0,
    ):
        self.estate = estate
        self._expected_authorization = f"Bearer {token}".encode()
        self.cursors = CursorCodec(token, cursor_ttl_seconds)
        self.faults = FaultInjector(fault_rates or FaultRates(), seed)
        self.retry_after_seconds = retry_after_seconds
        self.status_counts: Counter[int] = Counter()
        self._counts_lock = threading.Lock()

    def handle(self, path: str, query: str, authorization: str | None) -> Response:
        try:
            response = self._handle(path, query, authorization)
        except ApiError as error:
            response = error.response()
        with self._counts_lock:
            self.status_counts[response.status] += 1
        return response

    def _handle(self, path: str, query: str, authorization: str | None) -> Response:
        if path == "/health":
            return self._health()
        resource = RESOURCES.get(path.removeprefix("/v1/")) if path.startswith("/v1/") else None
        if resource is None:
            raise ApiError(404, "not_found", f"no such endpoint: {path}")
        given = (authorization or "").encode()
        if not hmac.compare_digest(given, self._expected_authorization):
            raise ApiError(
                401,
                "unauthorized",
                "missing or invalid token: send `Authorization: Bearer <token>`",
                {"WWW-Authenticate": 'Bearer realm="ronghe-ecommerce"'},
            )
        request = self._parse(resource, query)
        position = request.cursor[0].position if request.cursor else None
        request_key = (
            f"{resource.name}|{request.platform}|{request.since_micros}|"
            f"{request.page_size}|{position}"
        )
        fault = self.faults.decide(request_key, has_cursor=request.cursor is not None)
        if fault is Fault.THROTTLE:
            raise ApiError(
                429,
                "too_many_requests",
                f"rate limit exceeded: retry after {self.retry_after_seconds}s",
                {"Retry-After": str(self.retry_after_seconds)},
            )
        if fault in (Fault.INTERNAL_ERROR, Fault.UNAVAILABLE):
            raise ApiError(fault.value, "server_error", "the server failed; retry later")
        if request.cursor:
            try:
                self.cursors.check_fresh(request.cursor[1])
            except CursorExpiredError as error:
                raise ApiError(410, "cursor_expired", str(error)) from error
            if fault is Fault.CURSOR_EXPIRED:
                raise ApiError(
                    410,
                    "cursor_expired",
                    "cursor expired: restart the page walk from updated_since",
                )
        return self._page(request)

    def _health(self) -> Response:
        body = {"status": "ok", "versions": self.estate.counts()}
        return Response(200, json.dumps(body).encode(), {"Content-Type": JSON_CONTENT_TYPE})

    def _parse(self, resource: Resource, query: str) -> _PageRequest:
        allowed = {"cursor", "page_size"}
        if resource.per_platform:
            allowed.add("platform")
        if resource.filters_by_updated_since:
            allowed.add("updated_since")
        try:
            parsed = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
        except ValueError as error:
            raise ApiError(400, "invalid_query", f"malformed query string: {error}") from error
        unknown = sorted(set(parsed) - allowed)
        if unknown:
            raise ApiError(
                400,
                "invalid_parameter",
                f"unknown parameter(s) {', '.join(unknown)} for /v1/{resource.name}; "
                f"accepted: {', '.join(sorted(allowed))}",
            )
        repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
        if repeated:
            raise ApiError(
                400, "invalid_parameter", f"parameter(s) given twice: {', '.join(repeated)}"
            )
        params = {name: values[0] for name, values in parsed.items()}

        cursor = self._decode_cursor(params["cursor"]) if "cursor" in params else None
        platform = params.get("platform")
        if platform is not None and platform not in self.estate.platforms:
            raise ApiError(
                400,
                "invalid_parameter",
                f"unknown platform {platform!r}; known: {', '.join(self.estate.platforms)}",
            )
        since_micros = None
        if "updated_since" in params:
            try:
                since_micros = parse_utc_micros(params["updated_since"])
            except InvalidTimestampError as error:
                raise ApiError(400, "invalid_parameter", f"updated_since: {error}") from error
        if cursor:
            platform, since_micros = self._check_cursor_query(
                resource, platform, since_micros, cursor[0]
            )
        elif resource.per_platform and platform is None:
            raise ApiError(400, "invalid_parameter", "platform is required")
        return _PageRequest(resource, platform, since_micros, _page_size(params), cursor)

    def _decode_cursor(self, cursor: str) -> tuple[PagePosition, float]:
        try:
            return self.cursors.decode(cursor)
        except InvalidCursorError as error:
            raise ApiError(400, "invalid_cursor", str(error)) from error

    @staticmethod
    def _check_cursor_query(
        resource: Resource, platform: str | None, since_micros: int | None, page: PagePosition
    ) -> tuple[str | None, int | None]:
        """The cursor carries its query; parameters repeated beside it must agree with it."""
        if (
            page.resource != resource.name
            or (platform is not None and platform != page.platform)
            or (since_micros is not None and since_micros != page.since_micros)
        ):
            raise ApiError(
                400,
                "invalid_cursor",
                "the cursor belongs to another query (endpoint, platform or updated_since differ)",
            )
        return page.platform, page.since_micros

    def _page(self, request: _PageRequest) -> Response:
        dataset = self.estate.dataset(request.resource.name, request.platform)
        if request.cursor:
            start = request.cursor[0].position
        elif request.since_micros is not None:
            start = dataset.first_position_since(request.since_micros)
        else:
            start = 0
        stop = start + request.page_size
        rows = dataset.rows(start, stop)
        next_cursor = None
        if stop < len(dataset):
            next_page = PagePosition(
                request.resource.name, request.platform, request.since_micros, stop
            )
            next_cursor = self.cursors.encode(next_page)
        body = b"".join(
            (
                b'{"data":[',
                b",".join(rows),
                b'],"next_cursor":',
                json.dumps(next_cursor).encode(),
                b"}",
            )
        )
        return Response(200, body, {"Content-Type": JSON_CONTENT_TYPE}, rows=len(rows))


def _page_size(params: dict[str, str]) -> int:
    text = params.get("page_size")
    if text is None:
        return DEFAULT_PAGE_SIZE
    size = int(text) if text.isascii() and text.isdigit() else 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ApiError(
            400,
            "invalid_parameter",
            f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, got {text!r}",
        )
    return size
