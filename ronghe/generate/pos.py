"""Store sales at the tills: one store-day at a time.

A store-day holds its sales, returns (of earlier sales, sometimes made in
another store), voided transactions, pick-ups of online orders (BOPIS,
`PREPAID_ONLINE`) and the members who registered that day. Natural days stay
well under the sales-spike threshold, so every store-day above it is a
spike injected on purpose and logged.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ronghe.generate.clock import DAY, Clock
from ronghe.generate.coupons import Coupons
from ronghe.generate.defects import DefectLog, DefectPlan
from ronghe.generate.erp import DISCONTINUED, STORE_CH, Erp
from ronghe.generate.inventory import (
    REF_POS,
    REF_TRANSFER,
    RETURN,
    SALE,
    TRANSFER_IN,
    TRANSFER_OUT,
    Inventory,
)
from ronghe.generate.people import People
from ronghe.generate.products import ACCESSORY, PHONE, TABLET, WEARABLE, Catalog, ean13
from ronghe.generate.stores import Network, Store
from ronghe.generate.streams import pick, stream
from ronghe.generate.volumes import Volumes

PAYMENTS = ("CASH", "UNIONPAY", "ALIPAY", "WECHAT")
PAYMENT_P = (0.05, 0.2, 0.35, 0.4)
LINES_P = np.array([0.6, 0.25, 0.1, 0.05])
MEAN_LINES = float((LINES_P * np.arange(1, 5)).sum())
FIRST_CATEGORY_P = np.array([0.3, 0.08, 0.17, 0.45])
RETURN_P = {PHONE: 0.03, TABLET: 0.04, WEARABLE: 0.05, ACCESSORY: 0.06}
MEMBER_SHARE = 0.38
PHONE_WITH_CARD = 0.45
PHONE_ONLY_SHARE = 0.07
VOID_SHARE = 0.015
MANUAL_DISCOUNT_SHARE = 0.04
TILL_COUPON_SHARE = 0.4
REGISTRATION_PURCHASE = 0.7
CROSS_STORE_RETURN = 0.15
BASELINE_DAYS = 28
BASELINE_MIN_DAYS = 7
NATURAL_CAP = 2.2
SPIKE_FLOOR = 3.6
# Share of a store's daily sales per opening hour, 10:00 to 21:59.
HOUR_WEIGHTS = np.array([4, 6, 7, 6, 7, 8, 8, 7, 9, 11, 10, 6], dtype=float)
HOUR_CUM = np.cumsum(HOUR_WEIGHTS)
LINES_CUM = np.cumsum(LINES_P)
FIRST_CATEGORY_CUM = np.cumsum(FIRST_CATEGORY_P)
ACCESSORY_QTY_CUM = np.cumsum((0.85, 0.12, 0.03))
PAYMENT_CUM = np.cumsum(PAYMENT_P)
# Monday to Sunday, averaging 1 over a week.
WEEKDAY_FACTOR = tuple(f * 7 / 7.26 for f in (0.9, 0.88, 0.9, 0.95, 1.08, 1.3, 1.25))


@dataclass
class PosLine:
    item: int
    """-1 for a barcode no item ever had."""
    barcode: str
    qty: int
    unit_price: int
    discount: int
    coupon: str = ""
    line_no: int = 0

    @property
    def amount(self) -> int:
        return self.qty * self.unit_price - self.discount


@dataclass
class PosTxn:
    store: int
    t: int
    till: int
    cashier: str
    kind: str
    """SALE, RETURN or VOID."""
    payment: str
    lines: list[PosLine]
    member: int = -1
    phone: str = ""
    orig_txn_id: str = ""
    ecom_order_id: str = ""
    pickup: bool = False
    in_truth: bool = True
    """False for pick-ups: those sales belong to the online order."""
    txn_id: str = ""
    positions: list[int] = field(default_factory=list)
    pickup_order: str = ""
    """The online order a pick-up belongs to (even when the cashier keyed its number wrong)."""
    defects: list[tuple[str, int]] = field(default_factory=list)
    """(kind, line_no) of defects injected into this transaction, logged once ids are known."""

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass
class ReturnPlan:
    store: int
    orig_txn_id: str
    member: int
    phone: str
    payment: str
    lines: list[PosLine]


@dataclass
class Pickup:
    order_id: str
    platform: str
    store: int
    t: int
    person: int
    lines: list[PosLine]


@dataclass
class StoreDay:
    store: Store
    day: int
    vendor: str
    trades: bool
    txns: list[PosTxn]
    registrations: list[int]


class StoreSales:
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
        clock: Clock,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.volumes = volumes
        self.network = network
        self.catalog = catalog
        self.people = people
        self.inventory = inventory
        self.erp = erp
        self.coupons = coupons
        self.history: list[deque[tuple[int, int]]] = [
            deque(maxlen=BASELINE_DAYS) for _ in network.stores
        ]
        self.returns_due: dict[int, dict[int, list[ReturnPlan]]] = {}
        self.dealer_sold: dict[tuple[int, int], int] = {}
        self.spike_days: set[tuple[int, int]] = set()
        self._known_barcodes: set[str] = set()
        self._stores_by_city: dict[str, list[Store]] = {}
        for s in network.stores:
            self._stores_by_city.setdefault(s.city, []).append(s)

    # ------------------------------------------------------------------ day
    def run_day(
        self,
        day: int,
        uplift: float,
        registrations: dict[int, list[int]],
        pickups: dict[int, list[Pickup]],
        plan: DefectPlan,
        log: DefectLog,
    ) -> list[StoreDay]:
        """Every store's drop content for a day (header-only for stores closed that day)."""
        rng = stream(self.seed, "day", day, "pos")
        weekday = self.clock.date_of(day).weekday()
        date_str, compact = self.clock.date_str(day), self.clock.compact_date(day)
        stores = self.network.stores
        trading = [s for s in stores if s.trades_on(day)]
        traffic_total = sum(s.traffic for s in trading) or 1.0
        txns_per_day = (
            self.volumes.store_lines_per_day / MEAN_LINES * WEEKDAY_FACTOR[weekday] * uplift
        )
        out = []
        order = rng.permutation(len(stores))
        for si in order:
            store = stores[int(si)]
            if not store.sends_drop_on(day):
                continue
            if not store.trades_on(day):
                out.append(StoreDay(store, day, store.vendor, False, [], []))
                continue
            store_rng = stream(self.seed, "day", day, "pos", store.index)
            lam = txns_per_day * store.traffic / traffic_total
            spike = False
            if (
                len(self.history[store.index]) >= BASELINE_MIN_DAYS
                and plan.pending("sales_spike")
                and (store.closed_day is None or store.closed_day > day + 1)
            ):
                spike = plan.take("sales_spike")
            txns = self._store_day(
                day,
                store,
                store_rng,
                lam,
                spike,
                registrations.get(store.index, []),
                pickups.get(store.index, []),
                plan,
                compact,
            )
            if spike:
                self.spike_days.add((store.index, day))
                log.add(
                    "sales_spike",
                    f"pos/{store.code}/{compact}",
                    f"{store.code}/{date_str}",
                    "store-day sales far above 300% of the trailing 28-day baseline",
                )
            out.append(
                StoreDay(store, day, store.vendor, True, txns, registrations.get(store.index, []))
            )
        out.sort(key=lambda sd: sd.store.index)
        return out

    def _store_day(
        self,
        day: int,
        store: Store,
        rng: np.random.Generator,
        lam: float,
        spike: bool,
        registrations: list[int],
        pickups: list[Pickup],
        plan: DefectPlan,
        compact: str,
    ) -> list[PosTxn]:
        picker = _ItemPicker(self, store, day)
        base_amount, base_count = self._baseline(store.index)
        if spike:
            self._stock_up_for_event(store, day, rng, compact)
            picker.refresh()
        n = int(rng.poisson(lam * (rng.uniform(4.5, 6.0) if spike else 1.0)))
        sales: list[PosTxn] = []
        pool = self.people.store_pool[store.index]
        for member in registrations:
            if rng.random() < REGISTRATION_PURCHASE:
                txn = self._sale(day, store, rng, picker, member, with_phone=rng.random() < 0.6)
                if txn:
                    sales.append(txn)
        # Purchases made while registering are part of the day's traffic, not on top of it.
        for _ in range(max(0, n - len(sales))):
            member = -1
            if pool and rng.random() < MEMBER_SHARE:
                member = pool[rng.integers(len(pool))]
            txn = self._sale(
                day, store, rng, picker, member, with_phone=rng.random() < PHONE_WITH_CARD
            )
            if txn:
                if member < 0 and pool and rng.random() < PHONE_ONLY_SHARE:
                    other = pool[rng.integers(len(pool))]
                    person = int(self.people.members["person"][other])
                    txn.phone = self.people.till_phone(
                        int(self.people.persons["phone"][person]), int(rng.integers(2**62))
                    )
                sales.append(txn)

        if base_count and not spike:
            self._damp(sales, base_amount, base_count, rng)
        if spike and base_count:
            attempts = 0
            while attempts < 400 and (
                sum(t.total for t in sales) < SPIKE_FLOOR * base_amount
                or len(sales) < SPIKE_FLOOR * base_count
            ):
                attempts += 1
                txn = self._sale(day, store, rng, picker, -1, with_phone=False)
                if txn:
                    sales.append(txn)
        self.history[store.index].append((sum(t.total for t in sales), len(sales)))

        txns = list(sales)
        for sale in sales:
            if rng.random() < VOID_SHARE:
                void = self._sale(
                    day, store, rng, picker, sale.member, with_phone=False, allow_coupon=False
                )
                if void:
                    self._untake(void)
                    void.kind = "VOID"
                    txns.append(void)
        for ret in self.returns_due.get(day, {}).get(store.index, []):
            txns.append(self._return(day, store, rng, ret))
        if plan.take("return_without_sale"):
            txns.append(self._orphan_return(day, store, rng, picker))
        for pickup in pickups:
            txn = self._pickup_txn(store, rng, pickup)
            if plan.take("bopis_unknown_order"):
                # The cashier keys the last digit twice: no platform issues numbers of that length.
                txn.ecom_order_id += txn.ecom_order_id[-1]
                txn.defects.append(("bopis_unknown_order", 0))
            txns.append(txn)
        if sales and plan.take("unknown_barcode"):
            victim = sales[int(rng.integers(len(sales)))]
            victim.lines.append(
                PosLine(-1, self._unknown_barcode(rng), 1, int(rng.integers(3, 20)) * 1000 - 100, 0)
            )
            victim.positions.append(-1)
            victim.defects.append(("unknown_barcode", len(victim.lines)))
        if plan.pending("reused_coupon") and self.coupons.redeemed_pool and sales:
            self._reuse_coupon(sales, rng, plan)

        self._assign_ids(store, txns, compact)
        self._book(day, store, rng, txns)
        return txns

    # ------------------------------------------------------------ building
    def _sale(
        self,
        day: int,
        store: Store,
        rng: np.random.Generator,
        picker: _ItemPicker,
        member: int,
        with_phone: bool,
        allow_coupon: bool = True,
    ) -> PosTxn | None:
        hour = 10 + pick(rng, HOUR_CUM)
        t = day * DAY + hour * 3600 + int(rng.integers(0, 3600))
        till = 1 + int(rng.integers(store.tills))
        lines: list[PosLine] = []
        positions: list[int] = []
        n_lines = 1 + pick(rng, LINES_CUM)
        for k in range(n_lines):
            category = (
                pick(rng, FIRST_CATEGORY_CUM)
                if k == 0
                else (ACCESSORY if rng.random() < 0.8 else WEARABLE)
            )
            qty = 1 if category != ACCESSORY else 1 + pick(rng, ACCESSORY_QTY_CUM)
            picked = picker.pick(rng, category, qty)
            if picked is None:
                continue
            item, pos, qty = picked
            price = int(self.erp.price[item, STORE_CH])
            discount = 0
            if rng.random() < MANUAL_DISCOUNT_SHARE:
                discount = (qty * price * 5 // 100) // 100 * 100
            lines.append(PosLine(item, self.catalog.barcode[item], qty, price, discount))
            positions.append(pos)
        if not lines:
            return None
        txn = PosTxn(
            store=store.index,
            t=t,
            till=till,
            cashier=f"C{store.number:04d}{till * 2 - int(rng.integers(2)):02d}",
            kind="SALE",
            payment=PAYMENTS[pick(rng, PAYMENT_CUM)],
            lines=lines,
            member=member,
            positions=positions,
        )
        if member >= 0:
            person = int(self.people.members["person"][member])
            if with_phone:
                txn.phone = self.people.till_phone(
                    int(self.people.persons["phone"][person]), int(rng.integers(2**62))
                )
            mall = int(self.people.persons["mall"][person])
            if allow_coupon and mall >= 0 and rng.random() < TILL_COUPON_SHARE:
                coupon = self.coupons.usable("MALL", mall, t, "STORE")
                if coupon is not None:
                    self._apply_coupon(txn.lines[0], coupon)
        return txn

    def _apply_coupon(self, line: PosLine, coupon: int) -> None:
        room = line.qty * line.unit_price - line.discount - 100
        value = min(self.coupons.value(coupon), max(0, room))
        if value <= 0:
            return
        line.discount += value
        line.coupon = self.coupons.code[coupon]
        self.coupons.redeem(coupon)

    def _untake(self, txn: PosTxn) -> None:
        for line, pos in zip(txn.lines, txn.positions, strict=True):
            if pos >= 0:
                self.inventory.avail[pos] += line.qty

    def _damp(
        self, sales: list[PosTxn], base_amount: float, base_count: float, rng: np.random.Generator
    ) -> None:
        """Keep natural days under the cap, so only injected spikes cross 300%."""
        amount = sum(t.total for t in sales)
        while sales and (
            amount > NATURAL_CAP * base_amount or len(sales) > NATURAL_CAP * base_count
        ):
            victim = sales.pop(int(rng.integers(len(sales))))
            amount -= victim.total
            self._untake(victim)
            for line in victim.lines:
                if line.coupon:
                    idx = self.coupons.index_of[line.coupon]
                    self.coupons.redemptions[idx] -= 1
                    if self.coupons.redemptions[idx] == 0:
                        self.coupons.redeemed_pool.remove(idx)

    def _baseline(self, store: int) -> tuple[float, float]:
        history = self.history[store]
        if len(history) < BASELINE_MIN_DAYS:
            return 0.0, 0.0
        return sum(a for a, _ in history) / len(history), sum(c for _, c in history) / len(history)

    def _stock_up_for_event(
        self, store: Store, day: int, rng: np.random.Generator, compact: str
    ) -> None:
        """A same-day transfer fills the stockroom before a sales event."""
        inv = self.inventory
        ref = inv.next_transfer_ref(compact[2:])
        for pos in inv.store_positions[store.index]:
            pos = int(pos)
            want = int(inv.max_level[pos]) * 4 - int(inv.avail[pos])
            src = int(inv.parent[pos])
            qty = min(want, int(inv.avail[src]) - int(inv.min_level[src]))
            if qty <= 0 or inv.active_from[pos] > day:
                continue
            t_out = day * DAY + 6 * 3600 + int(rng.integers(0, 1800))
            inv.avail[src] -= qty
            inv.move(t_out, src, -qty, TRANSFER_OUT, REF_TRANSFER, ref)
            inv.move(t_out + 2 * 3600, pos, qty, TRANSFER_IN, REF_TRANSFER, ref)
            inv.avail[pos] += qty

    def _return(
        self, day: int, store: Store, rng: np.random.Generator, plan_: ReturnPlan
    ) -> PosTxn:
        hour = 10 + pick(rng, HOUR_CUM)
        lines = [
            PosLine(ln.item, ln.barcode, -ln.qty, ln.unit_price, -ln.discount) for ln in plan_.lines
        ]
        positions = [self.inventory.position(store.location, ln.item) for ln in lines]
        till = 1 + int(rng.integers(store.tills))
        return PosTxn(
            store=store.index,
            t=day * DAY + hour * 3600 + int(rng.integers(0, 3600)),
            till=till,
            cashier=f"C{store.number:04d}{till * 2:02d}",
            kind="RETURN",
            payment=plan_.payment,
            lines=lines,
            member=plan_.member,
            phone=plan_.phone,
            orig_txn_id=plan_.orig_txn_id,
            positions=[-1 if p is None else p for p in positions],
        )

    def _orphan_return(
        self, day: int, store: Store, rng: np.random.Generator, picker: _ItemPicker
    ) -> PosTxn:
        """A refund citing a transaction number no till ever issued."""
        item, pos = picker.any_item(rng)
        price = int(self.erp.price[item, STORE_CH])
        line = PosLine(item, self.catalog.barcode[item], -1, price, 0)
        till = 1 + int(rng.integers(store.tills))
        cited_day = self.clock.compact_date(day - int(rng.integers(1, 20)))
        txn = PosTxn(
            store=store.index,
            t=day * DAY + 15 * 3600 + int(rng.integers(0, 5 * 3600)),
            till=till,
            cashier=f"C{store.number:04d}{till * 2:02d}",
            kind="RETURN",
            payment="CASH",
            lines=[line],
            positions=[pos],
            orig_txn_id=txn_id(store, cited_day, till, 9000 + int(rng.integers(0, 999))),
        )
        txn.defects.append(("return_without_sale", 0))
        return txn

    def _pickup_txn(self, store: Store, rng: np.random.Generator, pickup: Pickup) -> PosTxn:
        card = int(self.people.persons["card"][pickup.person])
        member = card if card >= 0 and rng.random() < 0.4 else -1
        phone = ""
        if rng.random() < 0.3:
            phone = self.people.till_phone(
                int(self.people.persons["phone"][pickup.person]), int(rng.integers(2**62))
            )
        till = 1 + int(rng.integers(store.tills))
        lines = [
            PosLine(ln.item, ln.barcode, ln.qty, ln.unit_price, ln.discount) for ln in pickup.lines
        ]
        return PosTxn(
            store=store.index,
            t=pickup.t,
            till=till,
            cashier=f"C{store.number:04d}{till * 2:02d}",
            kind="SALE",
            payment="PREPAID_ONLINE",
            lines=lines,
            member=member,
            phone=phone,
            ecom_order_id=pickup.order_id,
            pickup=True,
            pickup_order=pickup.order_id,
            in_truth=False,
            positions=[-1] * len(lines),
        )

    def _reuse_coupon(
        self, sales: list[PosTxn], rng: np.random.Generator, plan: DefectPlan
    ) -> None:
        for txn in sales:
            line = txn.lines[0]
            if line.coupon or line.item < 0 or line.qty * line.unit_price < 20_000:
                continue
            plan.take("reused_coupon")
            coupon = self.coupons.redeemed_pool[int(rng.integers(len(self.coupons.redeemed_pool)))]
            line.discount += min(
                self.coupons.value(coupon), line.qty * line.unit_price - line.discount - 100
            )
            line.coupon = self.coupons.code[coupon]
            self.coupons.redemptions[coupon] += 1
            txn.defects.append(("reused_coupon", 1))
            return

    def _unknown_barcode(self, rng: np.random.Generator) -> str:
        if not self._known_barcodes:
            self._known_barcodes = set(self.catalog.barcode)
        known = self._known_barcodes
        while True:
            code = ean13("6921734", int(rng.integers(0, 99_999)))
            if code not in known:
                return code

    # ------------------------------------------------------------ finishing
    @staticmethod
    def _assign_ids(store: Store, txns: list[PosTxn], compact: str) -> None:
        txns.sort(key=lambda t: (t.t, t.till))
        seq: dict[int, int] = {}
        for txn in txns:
            seq[txn.till] = seq.get(txn.till, 0) + 1
            txn.txn_id = txn_id(store, compact, txn.till, seq[txn.till])
            for k, line in enumerate(txn.lines, start=1):
                line.line_no = k

    def _book(self, day: int, store: Store, rng: np.random.Generator, txns: list[PosTxn]) -> None:
        inv = self.inventory
        dealer = store.store_type == "DEALER"
        for txn in txns:
            if txn.member >= 0:
                first = self.people.members["first_use_day"]
                first[txn.member] = min(int(first[txn.member]), day)
            if txn.pickup or txn.kind == "VOID":
                continue
            for line, pos in zip(txn.lines, txn.positions, strict=True):
                if pos < 0:
                    continue
                if txn.kind == "SALE":
                    inv.move(txn.t, pos, -line.qty, SALE, REF_POS, txn.txn_id)
                else:
                    inv.put_back(txn.t, pos, -line.qty, RETURN, REF_POS, txn.txn_id)
                if dealer:
                    key = (store.index, line.item)
                    self.dealer_sold[key] = self.dealer_sold.get(key, 0) + line.qty
            if txn.kind == "SALE":
                self._maybe_schedule_return(day, store, rng, txn)

    def _maybe_schedule_return(
        self, day: int, store: Store, rng: np.random.Generator, txn: PosTxn
    ) -> None:
        returned = [
            line
            for line in txn.lines
            if line.item >= 0
            and not line.coupon
            and rng.random() < RETURN_P[int(self.catalog.category[line.item])]
        ]
        if not returned:
            return
        lag = 0 if rng.random() < 0.05 else int(rng.integers(1, 15))
        target = store.index
        if rng.random() < CROSS_STORE_RETURN:
            others = [
                s.index
                for s in self._stores_by_city[store.city]
                if s.index != store.index
                and s.trades_on(day + lag)
                and all(self._carries(s, line.item, day + lag) for line in returned)
            ]
            if others:
                target = others[int(rng.integers(len(others)))]
        if not self.network.stores[target].trades_on(day + lag):
            return
        self.returns_due.setdefault(day + lag, {}).setdefault(target, []).append(
            ReturnPlan(
                store=target,
                orig_txn_id=txn.txn_id,
                member=txn.member,
                phone=txn.phone,
                payment=txn.payment,
                lines=[
                    PosLine(ln.item, ln.barcode, ln.qty, ln.unit_price, ln.discount)
                    for ln in returned
                ],
            )
        )

    def _carries(self, store: Store, item: int, day: int) -> bool:
        pos = self.inventory.position(store.location, item)
        return pos is not None and self.inventory.active_from[pos] <= day

    def finish_day(self, day: int) -> None:
        self.returns_due.pop(day, None)


def txn_id(store: Store, compact: str, till: int, seq: int) -> str:
    """Vendor A numbers carry the store code; vendor B numbers are digits only."""
    if store.vendor == "A":
        return f"{store.code}-{compact[2:]}-{till:02d}{seq:04d}"
    return f"9{store.number:05d}{compact[2:]}{till}{seq:04d}"


class _ItemPicker:
    """Chooses in-stock items of a store's assortment by popularity."""

    def __init__(self, sales: StoreSales, store: Store, day: int) -> None:
        inv = sales.inventory
        self.inv = inv
        self.items = inv.store_items[store.index]
        self.positions = inv.store_positions[store.index]
        cat = sales.catalog
        weight = cat.popularity[self.items] * np.where(
            sales.erp.status[self.items] == DISCONTINUED, 0.1, 1.0
        )
        weight = np.where(
            (cat.launch_day[self.items] <= day) & (inv.active_from[self.positions] <= day),
            weight,
            0.0,
        )
        self.base_weight = weight
        self.category = cat.category[self.items]
        self._cum: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.refresh()

    def refresh(self) -> None:
        self._cum = {}

    def _table(self, category: int) -> tuple[np.ndarray, np.ndarray]:
        table = self._cum.get(category)
        if table is None:
            mask = (
                (self.category == category)
                & (self.inv.avail[self.positions] > 0)
                & (self.base_weight > 0)
            )
            idx = np.flatnonzero(mask)
            table = (idx, np.cumsum(self.base_weight[idx]))
            self._cum[category] = table
        return table

    def pick(
        self, rng: np.random.Generator, category: int, qty: int
    ) -> tuple[int, int, int] | None:
        for cat in (category, ACCESSORY, WEARABLE, PHONE):
            idx, cum = self._table(cat)
            if len(idx) == 0:
                continue
            k = int(
                idx[
                    min(
                        len(idx) - 1,
                        int(np.searchsorted(cum, rng.random() * cum[-1], side="right")),
                    )
                ]
            )
            pos = int(self.positions[k])
            for q in (qty, 1):
                if self.inv.take(pos, q):
                    if self.inv.avail[pos] <= 0:
                        self._cum.pop(cat, None)
                    return int(self.items[k]), pos, q
            self._cum.pop(cat, None)
        return None

    def any_item(self, rng: np.random.Generator) -> tuple[int, int]:
        """Any item the store sells today, in stock or not."""
        live = np.flatnonzero(self.base_weight > 0)
        k = int(live[rng.integers(len(live))])
        return int(self.items[k]), int(self.positions[k])
