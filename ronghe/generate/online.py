"""Online orders on MALL, TMALL and JD, decided whole when they are created.

An order's lifecycle (payment, cancellation, shipping, delivery, pick-up,
return) is drawn when the order is created. Each status change becomes an
order version, a WMS movement, a shipment row or a pick-up at a till on the
day it happens; the writers emit only what happened before the cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ronghe.generate.campaigns import Campaign, active_on
from ronghe.generate.clock import DAY, HOUR, Clock
from ronghe.generate.coupons import Coupons
from ronghe.generate.defects import DefectLog, DefectPlan
from ronghe.generate.erp import Erp
from ronghe.generate.inventory import PICK, REF_ORDER, RETURN, SHIP, Inventory
from ronghe.generate.jsonl import dumps
from ronghe.generate.jsonl import js as _js
from ronghe.generate.jsonl import jstr as _s
from ronghe.generate.money import yuan
from ronghe.generate.people import People
from ronghe.generate.pos import Pickup, PosLine
from ronghe.generate.products import ACCESSORY, PHONE, PLATFORMS, TABLET, WEARABLE, Catalog
from ronghe.generate.stores import Network, Store
from ronghe.generate.streams import mix64, pick, stream
from ronghe.generate.volumes import Volumes

PLATFORM_SHARE = {"MALL": 0.3, "TMALL": 0.4, "JD": 0.3}
CHANNEL_INDEX = {"MALL": 1, "TMALL": 2, "JD": 3}
FULFILMENT_P = {"MALL": (0.70, 0.18, 0.12), "TMALL": (0.86, 0.05, 0.09), "JD": (0.86, 0.05, 0.09)}
FULFILMENTS = ("DELIVERY", "BOPIS", "SHIP_FROM_STORE")
FULFILMENT_CUM = {p: np.cumsum(w) for p, w in FULFILMENT_P.items()}
ITEMS_P = np.array([0.78, 0.17, 0.05])
ITEMS_CUM = np.cumsum(ITEMS_P)
MEAN_ITEMS = float((ITEMS_P * np.arange(1, 4)).sum())
HOUR_WEIGHTS = np.array(
    [3, 2, 1, 0.6, 0.5, 0.6, 1, 2, 3, 4, 5, 5, 6, 5, 5, 5, 5, 6, 7, 8, 10, 11, 9, 6]
)
UNPAID_CANCEL = 0.04
PAID_CANCEL = 0.025
NOT_COLLECTED = 0.05
RETURN_P = {PHONE: 0.04, TABLET: 0.05, WEARABLE: 0.06, ACCESSORY: 0.08}
COUPON_USE = 0.5
CARRIERS = ("SF", "ZTO", "YTO", "YUNDA", "EMS", "JDL")
PICKUP_TYPES = ("DIRECT", "AUTHORISED", "POPUP")


@dataclass
class OrderLine:
    line_id: int
    platform_sku: str
    item: int
    qty: int
    unit_price: int
    discount: int
    position: int


@dataclass
class Order:
    platform: str
    order_id: str
    buyer: int
    person: int
    created_t: int
    fulfilment: str
    store: Store | None
    location: int
    """Stock location the goods leave from."""
    province: str
    city: str
    lines: list[OrderLine]
    coupons: list[str]
    campaign_id: str | None
    shipping_fee: int
    timeline: list[tuple[int, str]] = field(default_factory=list)
    shipment: dict[str, object] | None = None

    @property
    def items_amount(self) -> int:
        return sum(ln.qty * ln.unit_price - ln.discount for ln in self.lines)


@dataclass(order=True)
class Event:
    t: int
    seq: int
    kind: str = field(compare=False)
    order: Order = field(compare=False)


class Online:
    def __init__(
        self,
        seed: int,
        volumes: Volumes,
        network: Network,
        catalog: Catalog,
        people: People,
        inventory: Inventory,
        erp: Erp,
        coupons: Coupons,
        campaigns: list[Campaign],
        clock: Clock,
    ) -> None:
        self.seed = seed
        self.volumes = volumes
        self.network = network
        self.catalog = catalog
        self.people = people
        self.inventory = inventory
        self.erp = erp
        self.coupons = coupons
        self.campaigns = campaigns
        self.clock = clock
        self.versions: dict[int, list[tuple[int, str, str, str, tuple[str, str]]]] = {}
        """day -> (updated_t, order_id, platform, status, JSON parts) of that day's versions."""
        self.shipments: dict[int, list[tuple[int, str, str]]] = {}
        self.events: dict[int, list[Event]] = {}
        self.pickups: dict[int, dict[int, list[Pickup]]] = {}
        self.created: list[Order] = []
        """Orders created on the current day (for the truth writer)."""
        self._event_seq = 0
        self._shipment_seq = 0
        self._listed_t = {
            p: np.array([ln.listed_t for ln in catalog.listings[p]], dtype=np.int64)
            for p in PLATFORMS
        }
        self._listed_item = {
            p: np.array([ln.item for ln in catalog.listings[p]], dtype=np.int64) for p in PLATFORMS
        }
        self._stores_by_city: dict[str, list[Store]] = {}
        for s in network.stores:
            self._stores_by_city.setdefault(s.city, []).append(s)

    # ---------------------------------------------------------------- orders
    def create_day(
        self, day: int, uplift: dict[str, float], plan: DefectPlan, log: DefectLog
    ) -> None:
        self.created = []
        for platform in PLATFORMS:
            rng = stream(self.seed, "day", day, "orders", platform)
            listings, cum = self._listing_table(platform, day)
            if not len(listings) or not self.people.buyer_pool[platform]:
                continue
            lam = (
                self.volumes.online_lines_per_day
                * PLATFORM_SHARE[platform]
                / MEAN_ITEMS
                * uplift[platform]
            )
            hours = HOUR_WEIGHTS.copy()
            if any(c.peak_day == day and c.applies_to(platform) for c in self.campaigns):
                hours[0] *= 10
                hours[1] *= 5
            hour_p = hours / hours.sum()
            n = int(rng.poisson(lam))
            times = np.sort(
                day * DAY + rng.choice(24, size=n, p=hour_p) * HOUR + rng.integers(0, HOUR, size=n)
            )
            seq = 0
            for t in times:
                seq += 1
                order = self._order(rng, platform, day, int(t), seq, listings, cum, plan, log)
                if order:
                    self.created.append(order)
            if platform != "MALL" and plan.take("night_order_burst"):
                burst = max(20, int(0.3 * n))
                buyers = [
                    self.people.buyer_pool[platform][
                        rng.integers(len(self.people.buyer_pool[platform]))
                    ]
                    for _ in range(int(rng.integers(3, 9)))
                ]
                phones = np.flatnonzero(
                    self.catalog.category[[ln.item for ln in listings]] == PHONE
                )
                # Extra candidate times: an order fails when the warehouse lacks the phone.
                times = np.sort(
                    day * DAY + rng.integers(2 * HOUR + 300, 5 * HOUR - 300, size=3 * burst)
                )
                made = 0
                for t in times:
                    if made == burst:
                        break
                    seq += 1
                    order = self._order(
                        rng,
                        platform,
                        day,
                        int(t),
                        seq,
                        listings,
                        cum,
                        plan,
                        log,
                        buyer=buyers[rng.integers(len(buyers))],
                        burst_listings=phones,
                    )
                    if order:
                        self.created.append(order)
                        made += 1
                log.add(
                    "night_order_burst",
                    f"ecommerce/{platform}/orders.jsonl",
                    f"{platform}/{self.clock.date_str(day)}",
                    f"{made} orders created between 02:00 and 05:00 local by {len(buyers)} buyers",
                )

    def _listing_table(self, platform: str, day: int) -> tuple[list, np.ndarray]:
        """Listings live today and their cumulative popularity (discontinued items sell little)."""
        items = self._listed_item[platform]
        live = np.flatnonzero(
            (self._listed_t[platform] < (day + 1) * DAY) & (self.catalog.launch_day[items] <= day)
        )
        weights = self.catalog.popularity[items[live]] * np.where(
            self.erp.status[items[live]] == 1, 0.1, 1.0
        )
        all_listings = self.catalog.listings[platform]
        return [all_listings[k] for k in live], np.cumsum(weights)

    def _order_id(self, platform: str, day: int, seq: int) -> str:
        label = self.clock.compact_date(day)[2:]
        if platform == "MALL":
            return f"MO{label}{seq:07d}"
        if platform == "TMALL":
            return f"2{label}{seq:07d}{mix64(self.seed, day, seq) % 1000:03d}"
        return f"3{label}{seq:06d}"

    def _order(
        self,
        rng: np.random.Generator,
        platform: str,
        day: int,
        t: int,
        seq: int,
        listings: list,
        cum: np.ndarray,
        plan: DefectPlan,
        log: DefectLog,
        buyer: int | None = None,
        burst_listings: np.ndarray | None = None,
    ) -> Order | None:
        pool = self.people.buyer_pool[platform]
        if buyer is None:
            buyer = pool[rng.integers(len(pool))]
        person = int(self.people.customers[platform]["person"][buyer])
        province, city = self.people.customer_province_city(platform, buyer)
        fulfilment = (
            FULFILMENTS[pick(rng, FULFILMENT_CUM[platform])]
            if burst_listings is None
            else "DELIVERY"
        )
        store = None
        if fulfilment != "DELIVERY":
            store = self._pickup_store(rng, city, day)
            if store is None:
                fulfilment = "DELIVERY"
        n_items = 1 + pick(rng, ITEMS_CUM)
        lines: list[OrderLine] = []
        location = store.location if store else -1
        for _ in range(n_items):
            for _attempt in range(8):
                if burst_listings is not None and len(burst_listings):
                    listing = listings[int(burst_listings[rng.integers(len(burst_listings))])]
                else:
                    listing = listings[
                        min(
                            len(listings) - 1,
                            int(np.searchsorted(cum, rng.random() * cum[-1], "right")),
                        )
                    ]
                if any(ln.item == listing.item for ln in lines):
                    continue
                qty = (
                    1
                    if self.catalog.category[listing.item] != ACCESSORY
                    else 1 + int(rng.random() < 0.15)
                )
                if burst_listings is not None:
                    qty = 1 + int(rng.random() < 0.4)
                pos = self._allocate(day, listing.item, qty, store, province, city, location)
                if pos is None:
                    continue
                location = int(self.inventory.pos_loc[pos])
                price = int(self.erp.price[listing.item, CHANNEL_INDEX[platform]])
                lines.append(
                    OrderLine(
                        len(lines) + 1, listing.platform_sku, listing.item, qty, price, 0, pos
                    )
                )
                break
        if not lines:
            return None
        active = active_on(self.campaigns, platform, t)
        campaign_id = active[0].campaign_id if active else None
        if active:
            peak = any(c.peak_day == day for c in active)
            for line in lines:
                if rng.random() < 0.5:
                    rate = rng.uniform(0.08, 0.12) if peak else rng.uniform(0.03, 0.08)
                    line.discount = int(line.qty * line.unit_price * rate) // 100 * 100
        coupons: list[str] = []
        coupon = (
            self.coupons.usable(platform, buyer, t, platform) if rng.random() < COUPON_USE else None
        )
        reused = False
        if (
            coupon is None
            and plan.pending("reused_coupon")
            and self.coupons.redeemed_pool
            and rng.random() < 0.2
        ):
            coupon = self.coupons.redeemed_pool[int(rng.integers(len(self.coupons.redeemed_pool)))]
            reused = plan.take("reused_coupon")
        if coupon is not None:
            self._spread_coupon(lines, self.coupons.value(coupon))
            coupons.append(self.coupons.code[coupon])
            self.coupons.redeem(coupon)
        order = Order(
            platform=platform,
            order_id=self._order_id(platform, day, seq),
            buyer=buyer,
            person=person,
            created_t=t,
            fulfilment=fulfilment,
            store=store,
            location=location,
            province=province,
            city=city,
            lines=lines,
            coupons=coupons,
            campaign_id=campaign_id,
            shipping_fee=0,
        )
        order.shipping_fee = self._shipping_fee(rng, order)
        if reused:
            log.add(
                "reused_coupon",
                f"ecommerce/{platform}/orders.jsonl",
                coupons[0],
                f"coupon redeemed again on order {order.order_id}",
            )
        self._lifecycle(rng, order, burst=burst_listings is not None)
        return order

    def _pickup_store(self, rng: np.random.Generator, city: str, day: int) -> Store | None:
        candidates = [
            s
            for s in self._stores_by_city.get(city, [])
            if s.store_type in PICKUP_TYPES
            and s.trades_on(day)
            and s.trades_on(day + 1)
            and (s.closed_day is None or s.closed_day > day + 8)
        ]
        if not candidates:
            return None
        return candidates[int(rng.integers(len(candidates)))]

    def _allocate(
        self,
        day: int,
        item: int,
        qty: int,
        store: Store | None,
        province: str,
        city: str,
        location: int,
    ) -> int | None:
        """Reserve stock where the order will leave from; all lines leave from one place."""
        inv = self.inventory
        if store is not None:
            choices = [store.location]
        elif location >= 0:
            choices = [location]
        else:
            choices = [
                self.network.front_of_city.get(city, -1),
                self.network.regional_for(province),
                self.network.central,
            ]
        for loc in choices:
            pos = inv.position(loc, item) if loc >= 0 else None
            if pos is not None and inv.active_from[pos] <= day and inv.allocate(pos, qty):
                return pos
        return None

    @staticmethod
    def _spread_coupon(lines: list[OrderLine], value: int) -> None:
        """Split a coupon over the lines in whole yuan; every line keeps 1 yuan per unit."""
        room = [max(0, ln.qty * ln.unit_price - ln.discount - 100 * ln.qty) for ln in lines]
        total_room = sum(room)
        spend = left = min(value, total_room)
        for line, r in zip(lines, room, strict=True):
            share = min(left, spend * r // total_room // 100 * 100) if total_room else 0
            line.discount += share
            left -= share
        for line in lines:
            if left <= 0:
                break
            slack = line.qty * line.unit_price - line.discount - 100 * line.qty
            extra = min(left, max(0, slack))
            line.discount += extra
            left -= extra

    def _shipping_fee(self, rng: np.random.Generator, order: Order) -> int:
        if order.fulfilment == "BOPIS":
            return 0
        if order.platform == "MALL":
            return 0 if order.items_amount >= 9_900 else 800
        return 0 if rng.random() < 0.9 else int(rng.choice((600, 1000)))

    # ------------------------------------------------------------- lifecycle
    def _lifecycle(self, rng: np.random.Generator, order: Order, burst: bool) -> None:
        t0 = order.created_t
        tl = [(t0, "CREATED")]
        if rng.random() < UNPAID_CANCEL:
            tl.append((t0 + 30 * 60, "CANCELLED"))
            self._event(t0 + 30 * 60, "RELEASE", order)
            self._finish(order, tl)
            return
        paid = t0 + int(rng.integers(20, 15 * 60))
        tl.append((paid, "PAID"))
        if rng.random() < (0.4 if burst else PAID_CANCEL):
            cancel = (
                paid + int(rng.integers(HOUR, 20 * HOUR))
                if not burst
                else paid + int(rng.integers(HOUR, 6 * HOUR))
            )
            tl.append((cancel, "CANCELLED"))
            self._event(cancel, "RELEASE", order)
            self._finish(order, tl)
            return
        if order.fulfilment == "BOPIS":
            store = order.store
            assert store is not None
            ready = _store_hours(paid + int(rng.integers(HOUR, 5 * HOUR)))
            self._event(ready, "PICK", order)
            if rng.random() < NOT_COLLECTED:
                cancel = ready + 7 * DAY
                tl.append((cancel, "CANCELLED"))
                self._event(cancel, "RESTOCK", order)
            else:
                collect = _store_hours(ready + int(rng.integers(2 * HOUR, 72 * HOUR)))
                while not store.trades_on(collect // DAY):
                    collect = (
                        (collect // DAY + 1) * DAY + 11 * HOUR + int(rng.integers(0, 8 * HOUR))
                    )
                tl.append((collect, "PICKED_UP"))
                self._event(collect, "PICKUP", order)
            self._finish(order, tl)
            return
        ship = paid + int(rng.integers(2 * HOUR, 30 * HOUR))
        if order.fulfilment == "SHIP_FROM_STORE":
            ship = _store_hours(ship)
        delivered = ship + int(rng.integers(20 * HOUR, 96 * HOUR))
        tl += [(ship, "SHIPPED"), (delivered, "DELIVERED")]
        self._event(ship, "SHIP", order)
        self._event(delivered, "DELIVERED", order)
        worst = max(RETURN_P[int(self.catalog.category[ln.item])] for ln in order.lines)
        if rng.random() < worst:
            returned = delivered + int(rng.integers(2 * DAY, 10 * DAY))
            tl.append((returned, "RETURNED"))
            self._event(returned, "RESTOCK", order)
        self._finish(order, tl)

    def _event(self, t: int, kind: str, order: Order) -> None:
        self._event_seq += 1
        self.events.setdefault(t // DAY, []).append(Event(t, self._event_seq, kind, order))

    def _finish(self, order: Order, timeline: list[tuple[int, str]]) -> None:
        order.timeline = timeline
        parts = self._render_parts(order)
        for t, status in timeline:
            self.versions.setdefault(t // DAY, []).append(
                (t, order.order_id, order.platform, status, parts)
            )

    def _render_parts(self, order: Order) -> tuple[str, str]:
        """The order's JSON around `updated_at` and `status` (they change per version)."""
        people = self.people
        p, b = order.platform, order.buyer
        store_code = order.store.code if order.store else None
        paid = order.items_amount + order.shipping_fee
        coupons = ",".join(_s(c) for c in order.coupons)
        items = ",".join(
            f'{{"line_id":{ln.line_id},"platform_sku":{_s(ln.platform_sku)},"qty":{ln.qty},'
            f'"unit_price":{yuan(ln.unit_price)},"discount":{yuan(ln.discount)}}}'
            for ln in order.lines
        )
        head = (
            f'{{"order_id":{_s(order.order_id)},"platform":"{p}",'
            f'"buyer_id":{_s(people.buyer_id(p, b))},'
            f'"buyer_phone":{_s(people.customer_phone(p, b))},'
            f'"buyer_email":{_js(people.customer_email(p, b))},'
            f'"buyer_name":{_s(people.customer_name(p, b))},'
            f'"union_id":{_js(people.union_id(p, b))},'
            f'"created_at":"{self.clock.iso_utc(order.created_t)}"'
        )
        tail = (
            f'"fulfilment":"{order.fulfilment}","store_code":{_js(store_code)},'
            f'"province":{_s(order.province)},"city":{_s(order.city)},"items":[{items}],'
            f'"coupons":[{coupons}],"campaign_id":{_js(order.campaign_id)},'
            f'"paid_amount":{yuan(paid)},"shipping_fee":{yuan(order.shipping_fee)}}}'
        )
        return head, tail

    # ---------------------------------------------------------------- events
    def process_day(self, day: int) -> None:
        """Stock movements, shipments and pick-ups of everything that happens today."""
        rng = stream(self.seed, "day", day, "fulfilment")
        inv = self.inventory
        for event in sorted(self.events.pop(day, [])):
            order = event.order
            if event.kind == "RELEASE":
                for ln in order.lines:
                    inv.release(ln.position, ln.qty)
            elif event.kind in ("SHIP", "PICK"):
                kind = SHIP if order.fulfilment == "DELIVERY" else PICK
                for ln in order.lines:
                    inv.consume_allocated(event.t, ln.position, ln.qty, kind, order.order_id)
                if event.kind == "SHIP":
                    self._shipment(rng, order, event.t)
            elif event.kind == "RESTOCK":
                for ln in order.lines:
                    inv.put_back(event.t, ln.position, ln.qty, RETURN, REF_ORDER, order.order_id)
            elif event.kind == "DELIVERED":
                self._shipment_delivered(order, event.t)
            elif event.kind == "PICKUP":
                assert order.store is not None
                lines = [
                    PosLine(
                        ln.item, self.catalog.barcode[ln.item], ln.qty, ln.unit_price, ln.discount
                    )
                    for ln in order.lines
                ]
                self.pickups.setdefault(day, {}).setdefault(order.store.index, []).append(
                    Pickup(
                        order.order_id,
                        order.platform,
                        order.store.index,
                        event.t,
                        order.person,
                        lines,
                    )
                )

    def _shipment(self, rng: np.random.Generator, order: Order, t: int) -> None:
        self._shipment_seq += 1
        carrier = (
            "JDL"
            if order.platform == "JD" and rng.random() < 0.8
            else CARRIERS[int(rng.integers(5))]
        )
        tracking = (
            f"{carrier}{rng.integers(10**11, 10**12)}"
            if carrier != "SF"
            else f"SF{rng.integers(10**12, 10**13)}"
        )
        order.shipment = {
            "shipment_id": f"SH{self.clock.compact_date(t // DAY)[2:]}{self._shipment_seq:07d}",
            "ecom_order_id": order.order_id,
            "warehouse_code": self.network.locations[order.location].code,
            "carrier": carrier,
            "tracking_no": tracking,
            "shipped_at": self.clock.iso_local(t),
            "delivered_at": None,
            "status": "IN_TRANSIT",
        }
        self._emit_shipment(order, t)

    def _shipment_delivered(self, order: Order, t: int) -> None:
        shipment = order.shipment
        shipment["delivered_at"] = self.clock.iso_local(t)
        shipment["status"] = "DELIVERED"
        self._emit_shipment(order, t)

    def _emit_shipment(self, order: Order, t: int) -> None:
        line = dumps(order.shipment)
        self.shipments.setdefault(t // DAY, []).append((t, order.order_id, line))

    def take_versions(self, day: int) -> list[tuple[str, str]]:
        """(platform, JSON line) of the order versions stamped today, in the API's order."""
        rows = sorted(self.versions.pop(day, []), key=lambda r: (r[0], r[1]))
        iso = self.clock.iso_utc
        return [
            (platform, f'{head},"updated_at":"{iso(t)}","status":"{status}",{tail}')
            for t, _, platform, status, (head, tail) in rows
        ]

    def take_shipments(self, day: int) -> list[str]:
        return [r[2] for r in sorted(self.shipments.pop(day, []))]


def _store_hours(t: int) -> int:
    """Move a time into store opening hours (10:00-21:30)."""
    s = t % DAY
    if s < 10 * HOUR:
        return t - s + 10 * HOUR + s % HOUR
    if s > 21 * HOUR + 1800:
        return t - s + DAY + 10 * HOUR + s % HOUR
    return t
