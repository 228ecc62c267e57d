"""Opaque page cursors: where the next page starts, and when the cursor was issued.

A cursor carries the query it belongs to (resource, platform, updated_since),
the position of the next version in the dataset's order and its issue time,
signed so a client cannot forge or edit one. The key derives from the API
token, so cursors stay valid across a server restart with the same token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass


class InvalidCursorError(ValueError):
    """A cursor this server did not issue, or one that was altered."""


class CursorExpiredError(Exception):
    """A cursor older than the TTL: the client must restart from updated_since."""


@dataclass(frozen=True)
class PagePosition:
    """What a cursor points at: a query and the position of its next version."""

    resource: str
    platform: str | None
    since_micros: int | None
    position: int


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: str, ttl_seconds: float, clock=time.time):
        self._key = hashlib.sha256(b"ronghe-ecommerce-cursor:" + secret.encode()).digest()
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:16]

    def encode(self, page: PagePosition) -> str:
        body = json.dumps(
            [
                page.resource,
                page.platform,
                page.since_micros,
                page.position,
                round(self._clock(), 3),
            ],
            separators=(",", ":"),
        ).encode()
        return f"{_b64(body)}.{_b64(self._sign(body))}"

    def decode(self, cursor: str) -> tuple[PagePosition, float]:
        """The position a cursor points at and its issue time (epoch seconds)."""
        try:
            body_text, signature_text = cursor.split(".")
            body, signature = _unb64(body_text), _unb64(signature_text)
        except ValueError as error:
            raise InvalidCursorError("malformed cursor") from error
        if not hmac.compare_digest(signature, self._sign(body)):
            raise InvalidCursorError("cursor not issued by this server (bad signature)")
        resource, platform, since_micros, position, issued_at = json.loads(body)
        return PagePosition(resource, platform, since_micros, position), issued_at

    def check_fresh(self, issued_at: float) -> None:
        age = self._clock() - issued_at
        if age > self.ttl_seconds:
            raise CursorExpiredError(
                f"cursor expired after {age:.0f}s (TTL {self.ttl_seconds:g}s): "
                "restart the page walk from updated_since"
            )
