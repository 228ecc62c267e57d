"""Decoding an API page while keeping each object's exact text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extractors.json_spans import EnvelopeError, decode_envelope


def test_items_keep_their_exact_text_and_numbers():
    text = '{ "next_cursor" : "c1", "data": [ {"a": 1999.00, "b": [1, 2]} ,{"n":"张三"} ] }'
    items, fields = decode_envelope(text, "data")
    assert items == [
        ('{"a": 1999.00, "b": [1, 2]}', {"a": Decimal("1999.00"), "b": [1, 2]}),
        ('{"n":"张三"}', {"n": "张三"}),
    ]
    assert str(items[0][1]["a"]) == "1999.00"
    assert fields == {"next_cursor": "c1"}


def test_an_empty_page():
    assert decode_envelope('{"data":[],"next_cursor":null}', "data") == ([], {"next_cursor": None})


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "expected '{'"),
        ("[]", "expected '{'"),
        ('{"data": 1}', "no `data` array"),
        ("{}", "no `data` array"),
        ('{"data": [1,]}', "not valid JSON"),
        ('{"data": []} trailing', "unexpected text"),
        ('{"data": [] "x": 1}', "expected '}'"),
        ("{1: []}", "keys must be strings"),
    ],
)
def test_malformed_pages_are_refused(text, reason):
    with pytest.raises(EnvelopeError, match=reason):
        decode_envelope(text, "data")
