"""Framing CSV files into records: encodings, headers, quotes, summary lines."""

from __future__ import annotations

import pytest

from extractors.contracts import load_source
from extractors.csvfiles import DeliveryError, prepare_csv, split_records

TRANSACTIONS = load_source("pos").stream("transactions")
LINES = load_source("pos").stream("lines")


def test_records_follow_rfc4180_quotes_across_lines() -> None:
    lines = b'a,"x\r\ny",b\r\nc,"he said ""hi""",d\r\n\r\ne,f"g,h\r\n'.split(b"\n")[:-1]
    assert split_records(lines, 2) == [
        (2, b'a,"x\r\ny",b'),
        (4, b'c,"he said ""hi""",d'),
        (6, b'e,f"g,h'),  # a quote inside an unquoted field is a character, not a quote
    ]


def test_vendor_a_with_bom_and_crlf() -> None:
    data = (
        b"\xef\xbb\xbftxn_id,line_no,barcode,qty,unit_price\r\n"
        b"T1,1,069,1,2.00\r\n\r\nT1,2,069,1,2.00"
    )
    prepared = prepare_csv(data, LINES)
    assert prepared.encoding == "utf-8" and not prepared.aliased
    assert prepared.columns == ["txn_id", "line_no", "barcode", "qty", "unit_price"]
    assert prepared.records == [(2, b"T1,1,069,1,2.00"), (4, b"T1,2,069,1,2.00")]
    assert prepared.read == 2


def test_vendor_b_gbk_headers_mapped_and_summary_set_apart() -> None:
    text = "交易号,门店编码,金额,备注\r\nB1,S2,5.00,现金支付\r\n合计,,5.00,\r\n"
    prepared = prepare_csv(text.encode("gbk"), TRANSACTIONS)
    assert prepared.encoding == "gb18030" and prepared.aliased
    assert prepared.columns == ["txn_id", "store_code", "total_amount", "备注"]
    assert prepared.records == [(2, "B1,S2,5.00,现金支付".encode())]
    assert prepared.summary == (3, "合计,,5.00,")


def test_summary_only_when_last() -> None:
    text = "交易号,金额\r\n合计,1.00\r\nB1,1.00\r\n"
    prepared = prepare_csv(text.encode("gbk"), TRANSACTIONS)
    assert prepared.summary is None and len(prepared.records) == 2


def test_empty_and_header_only_files() -> None:
    assert prepare_csv(b"", LINES).columns == [] and prepare_csv(b"", LINES).read == 0
    assert prepare_csv(b"txn_id,line_no\r\n", LINES).read == 0


def test_unusable_headers_are_delivery_errors() -> None:
    with pytest.raises(DeliveryError, match="repeated"):
        prepare_csv(b"txn_id,txn_id\r\n1,2\r\n", LINES)
    with pytest.raises(DeliveryError, match="header is missing"):
        prepare_csv(b"\r\nT1,1\r\n", LINES)


def test_reserved_column_names_are_refused() -> None:
    with pytest.raises(DeliveryError, match="reserved"):
        prepare_csv(b"txn_id,_ord\r\n1,2\r\n", LINES)
