"""E-commerce API data on disk: one JSON object per line, exactly as the API returns it.

Orders and customers are written as they change, so each file is ordered by
(`updated_at`, id) like the API's pages; every version of a changed object
has its own line. Times are UTC.
"""

from __future__ import annotations

from collections import Counter

from ronghe.generate.campaigns import Campaign
from ronghe.generate.clock import DAY, Clock
from ronghe.generate.coupons import Coupons
from ronghe.generate.jsonl import dumps as _dump
from ronghe.generate.jsonl import js, jstr
from ronghe.generate.people import People, Registration
from ronghe.generate.products import PLATFORMS, Catalog


class EcommerceWriter:
    def __init__(
        self, files, clock: Clock, people: People, coupons: Coupons, campaigns: list[Campaign]
    ) -> None:
        self.files = files
        self.clock = clock
        self.people = people
        self.coupons = coupons
        self.campaigns = campaigns
        self.orders = {p: files.stream(f"ecommerce/{p}/orders.jsonl") for p in PLATFORMS}
        self.customers = {p: files.stream(f"ecommerce/{p}/customers.jsonl") for p in PLATFORMS}
        self.coupon_file = files.stream("ecommerce/coupons.jsonl")
        self.counts: Counter[str] = Counter()

    def customer_json(self, platform: str, record: int) -> str:
        people = self.people
        c = people.customers[platform]
        return (
            f'{{"buyer_id":{jstr(people.buyer_id(platform, record))},"platform":"{platform}",'
            f'"phone":{jstr(people.customer_phone(platform, record))},'
            f'"email":{js(people.customer_email(platform, record))},'
            f'"name":{jstr(people.customer_name(platform, record))},'
            f'"union_id":{js(people.union_id(platform, record))},'
            f'"registered_at":"{self.clock.iso_utc(int(c["registered_t"][record]))}",'
            f'"updated_at":"{self.clock.iso_utc(int(c["updated_t"][record]))}"}}'
        )

    def write_history(self) -> None:
        """Accounts opened before the window, in the API's order."""
        for platform in PLATFORMS:
            c = self.people.customers[platform]
            rows = [
                (int(c["updated_t"][r]), self.people.buyer_id(platform, r), r)
                for r in range(c.size)
                if c["registered_t"][r] < 0
            ]
            rows.sort()
            self._customers(platform, [r for _, _, r in rows])

    def _customers(self, platform: str, records: list[int]) -> None:
        if records:
            self.customers[platform].write(
                "".join(self.customer_json(platform, r) + "\n" for r in records).encode()
            )
            self.counts[f"ecommerce_{platform}_customers"] += len(records)

    def write_day(
        self,
        day: int,
        versions: list[tuple[str, str]],
        changed: list[Registration],
        coupon_ids: list[int],
    ) -> None:
        """Append the day's order versions, new or changed accounts, and issued coupons."""
        by_platform: dict[str, list[str]] = {p: [] for p in PLATFORMS}
        for platform, line in versions:
            by_platform[platform].append(line)
        for platform, lines in by_platform.items():
            if lines:
                self.orders[platform].write("".join(line + "\n" for line in lines).encode())
                self.counts[f"ecommerce_{platform}_order_versions"] += len(lines)
        for platform in PLATFORMS:
            c = self.people.customers[platform]
            new = sorted(
                {
                    (
                        int(c["updated_t"][r.record]),
                        self.people.buyer_id(platform, r.record),
                        r.record,
                    )
                    for r in changed
                    if r.kind == platform
                }
            )
            self._customers(platform, [r for _, _, r in new])
        if coupon_ids:
            self.coupon_file.write(
                "".join(self._coupon_json(i) + "\n" for i in coupon_ids).encode()
            )
            self.counts["ecommerce_coupons"] += len(coupon_ids)

    def _coupon_json(self, idx: int) -> str:
        co = self.coupons
        return _dump(
            {
                "coupon_code": co.code[idx],
                "campaign_id": self.campaigns[co.campaign[idx]].campaign_id,
                "issued_platform": co.platform[idx],
                "buyer_id": self.people.buyer_id(co.platform[idx], co.buyer[idx]),
                "issued_at": self.clock.iso_utc(co.issued_t[idx]),
                "expires_at": self.clock.iso_utc(co.expires_t[idx]),
                "updated_at": self.clock.iso_utc(co.issued_t[idx]),
            }
        )

    def finish(self, days: int, catalog: Catalog) -> None:
        cutoff = days * DAY
        for platform in PLATFORMS:
            rows = sorted(
                (ln.listed_t, ln.platform_sku, ln)
                for ln in catalog.listings[platform]
                if ln.listed_t < cutoff
            )
            text = "".join(
                _dump(
                    {
                        "platform_sku": ln.platform_sku,
                        "platform": platform,
                        "barcode": ln.barcode,
                        "seller_sku": ln.seller_sku,
                        "title": ln.title,
                        "updated_at": self.clock.iso_utc(t),
                    }
                )
                + "\n"
                for t, _, ln in rows
            )
            self.files.write(f"ecommerce/{platform}/listings.jsonl", text.encode())
            self.counts[f"ecommerce_{platform}_listings"] = len(rows)
        for handle in (*self.orders.values(), *self.customers.values(), self.coupon_file):
            handle.close()
