"""Fast JSON fragments for the JSON Lines writers (compact separators, UTF-8 text)."""

from __future__ import annotations

import json
from json.encoder import encode_basestring

jstr = encode_basestring
"""A JSON string literal."""


def js(value: str | None) -> str:
    """A JSON string literal or null."""
    return "null" if value is None else encode_basestring(value)


def dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
