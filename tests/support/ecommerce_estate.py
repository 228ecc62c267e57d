"""Small hand-built e-commerce estates, written the way the contract stores them.

They are deliberately not made by the demo generator: the server and the
extractor must serve and land any estate that follows the contract. The
builder writes some quirks on purpose: times in several equivalent ISO 8601
forms, many versions sharing one `updated_at` (ties at page boundaries), and
two versions of one order with the same `updated_at` and `order_id`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

PLATFORMS = ("MALL", "TMALL", "JD")
START = datetime(2025, 3, 1, tzinfo=UTC)


def iso(moment: datetime, style: int = 0) -> str:
    """The same instant written in one of the forms the contract allows."""
    if style == 1:
        return moment.isoformat()  # +00:00
    if style == 2:
        return moment.astimezone(timezone(timedelta(hours=8))).isoformat()  # +08:00
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def order(order_id: str, platform: str, updated_at: str, version: int = 0, **changes) -> dict:
    items = [
        {
            "line_id": 1,
            "platform_sku": f"{platform}-SKU-{int(order_id[-3:]) % 7:03d}",
            "qty": 1,
            "unit_price": "1999.00",
            "discount": "100.00",
        },
        {
            "line_id": 2,
            "platform_sku": f"{platform}-SKU-9",
            "qty": 2,
            "unit_price": "49.50",
            "discount": "0.00",
        },
    ]
    record = {
        "order_id": order_id,
        "platform": platform,
        "buyer_id": f"{platform}-B{order_id[-3:]}",
        "buyer_phone": "138****8000" if platform != "MALL" else "13800138000",
        "buyer_email": None if platform != "MALL" else "zhang.san@example.com",
        "buyer_name": "张三",
        "union_id": "oUn1on" + order_id[-3:] if platform == "MALL" else None,
        "created_at": "2025-03-01T00:00:00Z",
        "updated_at": updated_at,
        "status": ["CREATED", "PAID", "SHIPPED", "DELIVERED"][version % 4],
        "fulfilment": "DELIVERY",
        "store_code": None,
        "province": "广东省",
        "city": "深圳市",
        "items": items,
        "coupons": [f"CP{order_id[-3:]}"] if int(order_id[-3:]) % 3 == 0 else [],
        "campaign_id": None,
        "paid_amount": "1998.00",
        "shipping_fee": "0.00",
    }
    record.update(changes)
    return record


def customer(buyer_id: str, platform: str, updated_at: str) -> dict:
    return {
        "buyer_id": buyer_id,
        "platform": platform,
        "phone": "13800138000",
        "email": "li.si@example.com",
        "name": "李四",
        "union_id": None,
        "registered_at": "2024-12-01T00:00:00Z",
        "updated_at": updated_at,
    }


def listing(platform_sku: str, platform: str, updated_at: str) -> dict:
    return {
        "platform_sku": platform_sku,
        "platform": platform,
        "barcode": "0690000000017",
        "seller_sku": "HW-M60P-512-BLK",
        "title": "手机 512GB 黑色",
        "updated_at": updated_at,
    }


def coupon(coupon_code: str, updated_at: str) -> dict:
    return {
        "coupon_code": coupon_code,
        "campaign_id": "CMP-618",
        "issued_platform": "MALL",
        "buyer_id": "MALL-B001",
        "issued_at": "2025-02-01T00:00:00Z",
        "expires_at": "2025-07-01T00:00:00Z",
        "updated_at": updated_at,
    }


def write_jsonl(path: Path, records: Iterable[dict | str]) -> None:
    """One object per line; a str is written as the raw line it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        for record in records:
            line = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)
            out.write(line + "\n")


@dataclass
class SmallEstate:
    root: Path
    records: dict[str, list[dict]] = field(default_factory=dict)
    """Every stored version per file (`orders/MALL`, `coupons`, ...), in file order."""


def build_small_estate(root: Path, orders_per_platform: int = 40, seed: int = 7) -> SmallEstate:
    """An estate with ties, re-versioned orders and mixed time formats."""
    rng = random.Random(seed)
    estate = SmallEstate(root)
    for platform in PLATFORMS:
        versions: list[dict] = []
        for number in range(orders_per_platform):
            order_id = f"{platform[0]}O{number:03d}"
            # Few distinct instants, so many versions tie on updated_at.
            moment = START + timedelta(hours=rng.randrange(6))
            for version in range(rng.randrange(1, 4)):
                style = rng.randrange(3)
                versions.append(order(order_id, platform, iso(moment, style), version))
                if rng.random() < 0.2:
                    # Two versions of one order at the same instant: a tie on (updated_at, id).
                    versions.append(order(order_id, platform, iso(moment), version + 1))
                moment += timedelta(hours=rng.randrange(0, 3))
        rng.shuffle(versions)
        customers = [
            customer(f"{platform}-B{n:03d}", platform, iso(START + timedelta(hours=n % 4)))
            for n in range(orders_per_platform // 2)
        ]
        listings = [
            listing(f"{platform}-SKU-{n:03d}", platform, iso(START - timedelta(days=n % 3)))
            for n in range(10)
        ]
        for name, records in (
            ("orders", versions),
            ("customers", customers),
            ("listings", listings),
        ):
            write_jsonl(root / "ecommerce" / platform / f"{name}.jsonl", records)
            estate.records[f"{name}/{platform}"] = records
    coupons = [coupon(f"CP{n:03d}", iso(START + timedelta(hours=n % 5))) for n in range(30)]
    write_jsonl(root / "ecommerce" / "coupons.jsonl", coupons)
    estate.records["coupons"] = coupons
    return estate
