"""Loading an estate: what cannot be served is refused with the file and line."""

from __future__ import annotations

import pytest

from ronghe.ecommerce_api.store import Estate, EstateLoadError
from tests.support.ecommerce_estate import order, write_jsonl


def _orders(root, lines) -> None:
    write_jsonl(root / "ecommerce" / "MALL" / "orders.jsonl", lines)


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ('{"order_id": "MO2", "updated_at": ', "not a JSON object"),
        ('["MO2", "2025-03-01T00:00:00Z"]', "expected a JSON object, got list"),
        ('{"order_id": "MO2"}', "`updated_at` orders the change feed"),
        ('{"order_id": "MO2", "updated_at": "01/03/2025"}', "`updated_at` orders the change feed"),
        ('{"order_id": null, "updated_at": "2025-03-01T00:00:00Z"}', "`order_id` must be"),
    ],
)
def test_an_unservable_line_is_refused_with_its_location(tmp_path, bad_line, reason):
    _orders(tmp_path, [order("MO001", "MALL", "2025-03-01T00:00:00Z"), bad_line])
    with pytest.raises(EstateLoadError, match=reason) as raised:
        Estate.load(tmp_path)
    assert "MALL/orders.jsonl:2:" in str(raised.value)


def test_a_folder_without_ecommerce_data_is_refused(tmp_path):
    with pytest.raises(EstateLoadError, match="not an estate"):
        Estate.load(tmp_path)


def test_extra_platforms_are_served_and_missing_files_are_empty(tmp_path):
    write_jsonl(
        tmp_path / "ecommerce" / "DOUYIN" / "orders.jsonl",
        [order("DO001", "DOUYIN", "2025-03-01T00:00:00Z")],
    )
    estate = Estate.load(tmp_path)
    assert estate.platforms == ["DOUYIN", "JD", "MALL", "TMALL"]
    assert len(estate.dataset("orders", "DOUYIN")) == 1
    assert len(estate.dataset("orders", "MALL")) == 0
    assert len(estate.dataset("coupons", None)) == 0
