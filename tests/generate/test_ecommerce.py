"""E-commerce files: every order version, amounts, masked marketplace data, API ordering."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from tests.generate.sources import jsonl, to_fen

PLATFORMS = ("MALL", "TMALL", "JD")
ORDER_KEYS = [
    "order_id",
    "platform",
    "buyer_id",
    "buyer_phone",
    "buyer_email",
    "buyer_name",
    "union_id",
    "created_at",
    "updated_at",
    "status",
    "fulfilment",
    "store_code",
    "province",
    "city",
    "items",
    "coupons",
    "campaign_id",
    "paid_amount",
    "shipping_fee",
]
UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _orders(root, platform):
    return jsonl(root / "ecommerce" / platform / "orders.jsonl")


def test_orders_have_the_contract_fields_in_api_order(small_estate):
    for platform in PLATFORMS:
        orders = _orders(small_estate, platform)
        assert orders, platform
        for o in orders:
            assert list(o) == ORDER_KEYS
            assert o["platform"] == platform
            assert UTC.match(o["created_at"]) and UTC.match(o["updated_at"])
        keys = [(o["updated_at"], o["order_id"]) for o in orders]
        assert keys == sorted(keys), f"{platform} orders are not ordered by (updated_at, order_id)"


def test_changed_orders_appear_once_per_version_with_increasing_updated_at(small_estate):
    versions: dict[str, list[dict]] = defaultdict(list)
    for platform in PLATFORMS:
        for o in _orders(small_estate, platform):
            versions[o["order_id"]].append(o)
    multi = [v for v in versions.values() if len(v) > 1]
    assert len(multi) > len(versions) / 2
    final_statuses = Counter()
    for history in versions.values():
        stamps = [o["updated_at"] for o in history]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        assert history[0]["status"] == "CREATED"
        for o in history[1:]:
            assert o["items"] == history[0]["items"] and o["created_at"] == history[0]["created_at"]
        final_statuses[history[-1]["status"]] += 1
    assert {"DELIVERED", "PICKED_UP", "CANCELLED", "SHIPPED"} <= set(final_statuses)


def test_paid_amount_is_items_plus_shipping(small_estate):
    for platform in PLATFORMS:
        for o in _orders(small_estate, platform):
            items = sum(
                i["qty"] * to_fen(f"{i['unit_price']:.2f}") - to_fen(f"{i['discount']:.2f}")
                for i in o["items"]
            )
            assert to_fen(f"{o['paid_amount']:.2f}") == items + to_fen(f"{o['shipping_fee']:.2f}")
            assert all(i["qty"] * i["unit_price"] - i["discount"] > 0 for i in o["items"])


def test_every_fulfilment_type_and_store_rules(small_estate):
    seen = Counter()
    for platform in PLATFORMS:
        for o in _orders(small_estate, platform):
            seen[(platform, o["fulfilment"])] += 1
            assert (o["store_code"] is None) == (o["fulfilment"] == "DELIVERY")
    assert {f for _, f in seen} == {"DELIVERY", "BOPIS", "SHIP_FROM_STORE"}
    assert {p for p, _ in seen} == set(PLATFORMS)


def test_marketplace_phones_are_masked_and_mall_has_full_data(small_estate):
    for platform in ("TMALL", "JD"):
        for c in jsonl(small_estate / "ecommerce" / platform / "customers.jsonl"):
            assert re.match(r"^\d{3}\*{4}\d{4}$", c["phone"])
            assert c["union_id"] is None and c["email"] is None
        for o in _orders(small_estate, platform):
            assert re.match(r"^\d{3}\*{4}\d{4}$", o["buyer_phone"])
    mall = jsonl(small_estate / "ecommerce" / "MALL" / "customers.jsonl")
    assert all(re.match(r"^1\d{10}$", c["phone"]) for c in mall)
    assert sum(c["union_id"] is not None for c in mall) > len(mall) / 2
    assert sum(c["email"] is not None for c in mall) > len(mall) / 2


def test_order_buyers_and_coupons_exist(small_estate):
    coupons = {c["coupon_code"]: c for c in jsonl(small_estate / "ecommerce" / "coupons.jsonl")}
    assert coupons
    used = 0
    for platform in PLATFORMS:
        buyers = {
            c["buyer_id"] for c in jsonl(small_estate / "ecommerce" / platform / "customers.jsonl")
        }
        for o in _orders(small_estate, platform):
            assert o["buyer_id"] in buyers
            for code in o["coupons"]:
                assert code in coupons
                used += 1
    assert used


def test_listings_use_platform_codes_and_sometimes_free_text(small_estate):
    for platform in PLATFORMS:
        listings = jsonl(small_estate / "ecommerce" / platform / "listings.jsonl")
        skus = [entry["platform_sku"] for entry in listings]
        assert len(skus) == len(set(skus))
        assert not any(re.match(r"^[A-Z]{2}-", s) for s in skus), (
            "platform_sku must be the platform's own code"
        )
        assert any(entry["barcode"] is None for entry in listings) or platform == "MALL"
        seller = [entry["seller_sku"] for entry in listings]
        assert (
            sum(bool(re.match(r"^[A-Z]{2}-[A-Z0-9]+-[A-Z0-9]+-[A-Z]{3}$", s)) for s in seller)
            > len(seller) / 2
        )


def test_changed_customers_are_returned_again(small_estate):
    changed = 0
    for platform in PLATFORMS:
        versions: dict[str, list[dict]] = defaultdict(list)
        rows = jsonl(small_estate / "ecommerce" / platform / "customers.jsonl")
        keys = [(c["updated_at"], c["buyer_id"]) for c in rows]
        assert keys == sorted(keys)
        for c in rows:
            versions[c["buyer_id"]].append(c)
        for history in versions.values():
            if len(history) > 1:
                changed += 1
                assert len({c["registered_at"] for c in history}) == 1
                assert history[-1] != history[0]
    assert changed


def test_coupons_file_is_in_api_order(small_estate):
    coupons = jsonl(small_estate / "ecommerce" / "coupons.jsonl")
    keys = [(c["updated_at"], c["coupon_code"]) for c in coupons]
    assert keys == sorted(keys) and len({c["coupon_code"] for c in coupons}) == len(coupons)
