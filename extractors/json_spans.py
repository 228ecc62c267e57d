"""Decode a JSON envelope while keeping each array item's exact text.

An API page is `{"data": [obj, ...], "next_cursor": ...}`. Quarantine keeps a
bad object exactly as the source sent it, and raw columns keep numbers as the
source wrote them (`1999.00`, not `1999.0`), so the items of the array are
decoded one by one with their spans, numbers as `Decimal`.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_DECODER = json.JSONDecoder(parse_float=Decimal)
_BLANK = re.compile(r"[ \t\n\r]*")


class EnvelopeError(ValueError):
    """The text is not a JSON object with an array under the expected key."""


def decode_envelope(text: str, array_key: str) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
    """The (exact text, value) of each item of `array_key`, and the envelope's other fields."""
    items: list[tuple[str, Any]] | None = None
    fields: dict[str, Any] = {}
    try:
        index = _expect(text, _skip(text, 0), "{")
        index = _skip(text, index)
        if text.startswith("}", index):
            index += 1
        else:
            while True:
                key, index = _DECODER.raw_decode(text, index)
                if not isinstance(key, str):
                    raise EnvelopeError(f"object keys must be strings, found {key!r}")
                index = _skip(text, _expect(text, _skip(text, index), ":"))
                if key == array_key and text.startswith("[", index):
                    items, index = _array_items(text, index)
                else:
                    fields[key], index = _DECODER.raw_decode(text, index)
                index = _skip(text, index)
                if text.startswith(",", index):
                    index = _skip(text, index + 1)
                    continue
                index = _expect(text, index, "}")
                break
        if _skip(text, index) != len(text):
            raise EnvelopeError(f"unexpected text after the JSON object at {index}")
    except json.JSONDecodeError as error:
        raise EnvelopeError(f"not valid JSON: {error}") from error
    if items is None:
        raise EnvelopeError(f"no `{array_key}` array in the response")
    return items, fields


def _array_items(text: str, index: int) -> tuple[list[tuple[str, Any]], int]:
    items: list[tuple[str, Any]] = []
    index = _skip(text, index + 1)
    if text.startswith("]", index):
        return items, index + 1
    while True:
        value, end = _DECODER.raw_decode(text, index)
        items.append((text[index:end], value))
        index = _skip(text, end)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
            continue
        return items, _expect(text, index, "]")


def _skip(text: str, index: int) -> int:
    return _BLANK.match(text, index).end()


def _expect(text: str, index: int, token: str) -> int:
    if not text.startswith(token, index):
        raise EnvelopeError(f"expected {token!r} at {index}, found {text[index : index + 20]!r}")
    return index + 1
