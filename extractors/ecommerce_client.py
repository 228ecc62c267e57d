"""One page of the e-commerce API per call, with retries and typed failures.

Transient failures (429 honouring Retry-After, 5xx, connection errors) are
retried inside the transport (`http_client`); what is left reaches the caller
as an error that says what to do: 401 names the token setting, 410 tells the
walker to restart, anything else stops the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import requests

from extractors.http_client import RetryPolicy, retries_of, retrying_session
from extractors.json_spans import decode_envelope


class EcommerceApiError(RuntimeError):
    """The API could not deliver a page; the run stops after keeping what it landed."""


class ApiAuthError(EcommerceApiError):
    """The API refused the token."""


class CursorGoneError(EcommerceApiError):
    """The cursor expired (410 Gone): the page walk must restart from updated_since."""


class JsonNumber(str):
    """A JSON number as the text the API wrote (`1999.00` stays `1999.00`)."""

    __slots__ = ()


@dataclass(frozen=True)
class Page:
    request: str
    """The request as `_origin` records it: `GET /v1/orders?platform=MALL&...&cursor=...`."""
    body: str
    objects: list[Any]
    """Each entry of `data`, decoded at C speed: numbers as `JsonNumber` (their exact text)."""
    next_cursor: str | None
    retries: list[str]
    """What the retried attempts of this request answered (statuses or error names)."""

    @cached_property
    def items(self) -> list[tuple[str, Any]]:
        """Each entry of `data` as (its exact JSON text, its value with numbers as Decimal).

        Decoded again, entry by entry, only for pages that need the exact text (an entry
        set aside in quarantine keeps it) or values columns cannot hold.
        """
        return decode_envelope(self.body, "data")[0]


class EcommerceApiClient:
    def __init__(self, base_url: str, token: str, policy: RetryPolicy) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self._session = retrying_session(policy)
        self._session.headers["Authorization"] = f"Bearer {token}"
        self._session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self._session.close()

    def page(self, endpoint: str, params: dict[str, str]) -> Page:
        request = f"GET {endpoint}?" + "&".join(f"{name}={value}" for name, value in params.items())
        try:
            response = self._session.get(
                self.base_url + endpoint, params=params, timeout=self.policy.timeout_seconds
            )
        except requests.RequestException as error:
            raise EcommerceApiError(
                f"{request} failed after {self.policy.max_attempts} attempts: {error}"
            ) from error
        if response.status_code == 401:
            raise ApiAuthError(
                f"{request} was refused (401 Unauthorized): check RONGHE_ECOM_API_TOKEN, "
                "the API token the extractor sends"
            )
        if response.status_code == 410:
            raise CursorGoneError(f"{request}: cursor expired (410 Gone)")
        if response.status_code != 200:
            raise EcommerceApiError(
                f"{request} answered {response.status_code}: {response.text[:500]}"
            )
        try:
            body = response.content.decode("utf-8")
            envelope = json.loads(body, parse_float=JsonNumber, parse_int=JsonNumber)
        except (UnicodeDecodeError, ValueError) as error:
            raise EcommerceApiError(
                f"{request} answered a page that is not the API's: {error}"
            ) from error
        if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), list):
            raise EcommerceApiError(f"{request} answered a page without a `data` array")
        if "next_cursor" not in envelope:
            raise EcommerceApiError(f"{request} answered a page without `next_cursor`")
        return Page(request, body, envelope["data"], envelope["next_cursor"], retries_of(response))
