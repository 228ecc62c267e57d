"""UTC timestamps as the API speaks them, and as integers the index can sort.

The API's times are ISO 8601 in UTC, but clients and estates write them in
several equivalent ways (`Z` or `+00:00`, with or without fractions, another
offset). Comparing the strings would order those wrongly, so the index and
the `updated_since` filter both work on microseconds since the epoch.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)

# An unencoded `+` in a query string decodes to a space: `...T00:00:00 08:00`.
_SPACE_FOR_PLUS = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class InvalidTimestampError(ValueError):
    """A value that is not an ISO 8601 date-time."""


def parse_utc_micros(value: str) -> int:
    """Microseconds since the epoch for an ISO 8601 date-time.

    A value without an offset is read as UTC, as the API defines all its times.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = _parse_leniently(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return (parsed - _EPOCH) // _ONE_MICROSECOND


def _parse_leniently(value: object) -> datetime:
    """Second chance for hand-typed values: surrounding blanks, a `+` decoded as a space."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(_SPACE_FOR_PLUS.sub(r"\1+\2", value.strip()))
        except ValueError:
            pass
    raise InvalidTimestampError(
        f"{value!r} is not an ISO 8601 date-time (e.g. 2025-03-01T00:00:00Z)"
    )
