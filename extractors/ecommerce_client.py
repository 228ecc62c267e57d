"""One page of the e-commerce API per call, with retries and typed failures.

Transient failures (429 honouring Retry-After, 5xx, connection errors) are
retried inside the transport (`http_client`); what is left reaches the caller
as an error that says what to do: 401 names the token setting, 410 tells the
walker to restart, anything else stops the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from extractors.http_client import RetryPolicy, retries_of, retrying_session
from extractors.json_spans import EnvelopeError, decode_envelope


class EcommerceApiError(RuntimeError):
    """The API could not deliver a page; the run stops after keeping what it landed."""


class ApiAuthError(EcommerceApiError):
    """The API refused the token."""


class CursorGoneError(EcommerceApiError):
    """The cursor expired (410 Gone): the page walk must restart from updated_since."""


@dataclass(frozen=True)
class Page:
    request: str
    """The request as `_origin` records it: `GET /v1/orders?platform=MALL&...&cursor=...`."""
    items: list[tuple[str, Any]]
    """Each object of `data` as (its exact JSON text, its value with numbers as Decimal)."""
    next_cursor: str | None
    retries: list[str]
    """What the retried attempts of this request answered (statuses or error names)."""


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
            items, fields = decode_envelope(response.content.decode("utf-8"), "data")
        except (UnicodeDecodeError, EnvelopeError) as error:
            raise EcommerceApiError(
                f"{request} answered a page that is not the API's: {error}"
            ) from error
        if "next_cursor" not in fields:
            raise EcommerceApiError(f"{request} answered a page without `next_cursor`")
        return Page(request, items, fields["next_cursor"], retries_of(response))
