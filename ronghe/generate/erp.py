"""The ERP: master data that changes in place, and its export to `erp/erp.db`.

Rows change in place and `updated_at` moves: stores are re-cut into other
regions or change type, items are discontinued or renamed, prices change
(a new `erp_price` row, the old one closed), items created by mistake are
hard-deleted (`erp_deleted`). Some changes happen every day, so extending an
estate always reveals new ones.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ronghe.generate.campaigns import Campaign
from ronghe.generate.clock import DAY, Clock
from ronghe.generate.defects import DefectLog, DefectPlan
from ronghe.generate.geo import CITIES, RECUT_MOVES
from ronghe.generate.money import yuan
from ronghe.generate.products import CATEGORY_L1, CHANNELS, Catalog, price_point
from ronghe.generate.stores import Network, Store, new_dealer
from ronghe.generate.streams import stream

STORE_CH, MALL_CH, TMALL_CH, JD_CH = range(4)
ACTIVE, DISCONTINUED = 0, 1

SCHEMA = """
CREATE TABLE erp_item (
  item_no TEXT PRIMARY KEY, item_name TEXT, series TEXT, model TEXT, category_l1 TEXT,
  category_l2 TEXT, brand TEXT, barcode TEXT, uom TEXT, unit_cost NUMERIC(12,2), status TEXT,
  created_at TIMESTAMP, updated_at TIMESTAMP);
CREATE TABLE erp_store (
  store_code TEXT PRIMARY KEY, store_name TEXT, store_type TEXT, dealer_code TEXT, region TEXT,
  province TEXT, city TEXT, county TEXT, opened_on DATE, closed_on DATE, warehouse_code TEXT,
  updated_at TIMESTAMP);
CREATE TABLE erp_dealer (
  dealer_code TEXT PRIMARY KEY, dealer_name TEXT, tier TEXT, registered_province TEXT,
  registered_city TEXT, updated_at TIMESTAMP);
CREATE TABLE erp_price (
  item_no TEXT, channel TEXT, list_price NUMERIC(12,2), valid_from DATE, valid_to DATE);
CREATE TABLE erp_sell_in (
  doc_no TEXT PRIMARY KEY, dealer_code TEXT, item_no TEXT, qty INT, unit_price NUMERIC(12,2),
  shipped_on DATE, updated_at TIMESTAMP);
CREATE TABLE erp_campaign (
  campaign_id TEXT PRIMARY KEY, name TEXT, tag TEXT, channel TEXT, starts_at TIMESTAMP,
  ends_at TIMESTAMP, marketing_cost NUMERIC(12,2));
CREATE TABLE erp_deleted (table_name TEXT, pk TEXT, deleted_at TIMESTAMP);
"""

DEALER_PRICE_FACTOR = {"T1": 0.82, "T2": 0.85, "T3": 0.88}


@dataclass
class PriceRow:
    item: int
    channel: int
    price: int
    valid_from: int
    valid_to: int | None = None


@dataclass
class SellIn:
    doc_no: str
    dealer_code: str
    item: int
    qty: int
    unit_price: int
    shipped_day: int
    updated_t: int
    deleted_t: int | None = None


@dataclass
class MistakenItem:
    item_no: str
    source: int
    """The real item it was copied from."""
    created_t: int
    deleted_t: int


class Erp:
    def __init__(self, seed: int, network: Network, catalog: Catalog, rate_scale: float) -> None:
        self.seed = seed
        self.network = network
        self.catalog = catalog
        self.rate_scale = rate_scale
        rng = stream(seed, "erp")
        n = catalog.size
        base = catalog.base_price
        self.price = np.zeros((n, 4), dtype=np.int64)
        self.price[:, STORE_CH] = base
        self.price[:, MALL_CH] = base
        for ch, low in ((TMALL_CH, 0.95), (JD_CH, 0.94)):
            factor = np.where(rng.random(n) < 0.5, 1.0, rng.uniform(low, 1.0, size=n))
            self.price[:, ch] = [
                price_point(p / 100 * f) * 100 for p, f in zip(base, factor, strict=True)
            ]
        self.price_rows: list[PriceRow] = []
        self._open_row: dict[tuple[int, int], int] = {}
        first_day = np.maximum(catalog.launch_day, catalog.erp_created_t // DAY)
        for i in range(n):
            valid_from = (
                int(first_day[i])
                if catalog.launch_day[i] >= 0
                else int(rng.integers(first_day[i], 0))
            )
            for ch in range(4):
                self._open_row[(i, ch)] = len(self.price_rows)
                self.price_rows.append(PriceRow(i, ch, int(self.price[i, ch]), valid_from))
        self.status = np.where(catalog.discontinued_before, DISCONTINUED, ACTIVE).astype(np.int8)
        self.item_name = list(catalog.item_name)
        self.item_updated_t = np.where(
            catalog.erp_created_t < 0,
            np.minimum(-DAY, catalog.erp_created_t + rng.integers(0, 200, size=n) * DAY),
            catalog.erp_created_t,
        )
        self.sell_in: list[SellIn] = []
        self.mistakes: list[MistakenItem] = []
        self.deleted: list[tuple[str, str, int]] = []
        self._doc_seq = 0
        self._recut_done: set[str] = set()

    def known(self, item: int, t: int) -> bool:
        return int(self.catalog.erp_created_t[item]) <= t

    def dealer_price(self, item: int, dealer_code: str) -> int:
        tier = self.network.dealer(dealer_code).tier
        return round(float(self.price[item, STORE_CH]) * DEALER_PRICE_FACTOR[tier] / 100) * 100

    # ------------------------------------------------------------- changes
    def daily_changes(
        self, day: int, plan: DefectPlan, log: DefectLog, clock: Clock
    ) -> list[Store]:
        """Apply the day's master-data changes; returns stores whose type changed."""
        rng = stream(self.seed, "day", day, "erp")
        known = np.flatnonzero(self.catalog.erp_created_t < day * DAY)
        active_known = known[self.status[known] == ACTIVE]

        def when() -> int:
            return day * DAY + int(rng.integers(9 * 3600, 18 * 3600))

        # Price changes: at least one a day; markdowns move every channel together.
        wanted = max(1, int(rng.poisson(1.2 * self.rate_scale)))
        changed = attempts = 0
        while changed < wanted and attempts < 50 * wanted:
            attempts += 1
            item = int(active_known[rng.integers(len(active_known))])
            if rng.random() < 0.7:
                factor = rng.uniform(0.85, 0.95)
                moved = [
                    self._set_price(
                        item, ch, price_point(self.price[item, ch] / 100 * factor) * 100, day
                    )
                    for ch in range(4)
                ]
                changed += any(moved)
            else:
                ch = int(rng.integers(1, 4))
                store = self.price[item, STORE_CH]
                target = price_point(store / 100 * rng.uniform(0.95, 1.0)) * 100
                changed += self._set_price(item, ch, target, day)
        if plan.take("price_parity_break"):
            item = int(active_known[rng.integers(len(active_known))])
            ch = int(rng.integers(1, 4))
            factor = rng.uniform(0.55, 0.72) if rng.random() < 0.75 else rng.uniform(1.25, 1.4)
            new = broken_price(int(self.price[item, STORE_CH]), factor)
            self._set_price(item, ch, new, day)
            log.add(
                "price_parity_break",
                "erp_price",
                f"{self.catalog.item_no[item]}/{CHANNELS[ch]}/{clock.date_str(day)}",
                f"{CHANNELS[ch]} list price {yuan(new)} vs STORE "
                f"{yuan(int(self.price[item, STORE_CH]))}",
            )
        # Discontinuations of old models.
        old = active_known[self.catalog.launch_day[active_known] < -300]
        for _ in range(int(rng.poisson(0.4 * self.rate_scale)) + (1 if day == 2 else 0)):
            if len(old):
                item = int(old[rng.integers(len(old))])
                self.status[item] = DISCONTINUED
                self.item_updated_t[item] = when()
        # Name corrections.
        for _ in range(int(rng.poisson(0.3 * self.rate_scale))):
            item = int(known[rng.integers(len(known))])
            if not self.item_name[item].endswith("(国行)"):
                self.item_name[item] += " (国行)"
                self.item_updated_t[item] = when()
        # Items keyed in by mistake and hard-deleted a few days later.
        for _ in range(int(rng.poisson(0.15 * self.rate_scale)) + (1 if day == 4 else 0)):
            source = int(known[rng.integers(len(known))])
            created = when()
            typo = self.catalog.item_no[source]
            typo = typo + typo[-1] if rng.random() < 0.5 else typo.replace("-", "_", 1)
            self.mistakes.append(
                MistakenItem(typo, source, created, created + int(rng.integers(1, 4)) * DAY)
            )
        return self._store_changes(day, rng, when)

    def _set_price(self, item: int, ch: int, price: int, day: int) -> bool:
        if price <= 0 or price == self.price[item, ch]:
            return False
        row = self.price_rows[self._open_row[(item, ch)]]
        if row.valid_from >= day:
            row.price = price
        else:
            row.valid_to = day - 1
            self._open_row[(item, ch)] = len(self.price_rows)
            self.price_rows.append(PriceRow(item, ch, price, day))
        self.price[item, ch] = price
        return True

    def _store_changes(self, day: int, rng: np.random.Generator, when) -> list[Store]:
        stores = self.network.stores
        changed_type: list[Store] = []
        if day == 3 or rng.random() < 0.02 * max(1.0, self.rate_scale):
            movable = [
                p
                for p in RECUT_MOVES
                if p not in self._recut_done and any(s.province == p for s in stores)
            ]
            if movable:
                province = movable[rng.integers(len(movable))]
                self._recut_done.add(province)
                t = when()
                for s in stores:
                    if s.province == province:
                        s.region = RECUT_MOVES[province]
                        s.updated_t = t
        if day == 6 or rng.random() < 0.015 * max(1.0, self.rate_scale):
            authorised = [s for s in stores if s.store_type == "AUTHORISED" and s.trades_on(day)]
            if authorised:
                s = authorised[rng.integers(len(authorised))]
                if day != 6 and rng.random() < 0.2:
                    s.store_type = "DIRECT"
                else:
                    # A newly signed local dealer takes the store over.
                    s.store_type = "DEALER"
                    city = next(c for c in CITIES if c.city == s.city)
                    dealer = new_dealer(rng, len(self.network.dealers) + 1, city, when())
                    self.network.dealers.append(dealer)
                    s.dealer_code = dealer.code
                s.updated_t = when()
                s.type_changed_day = day
                changed_type.append(s)
        if rng.random() < 0.03 * max(1.0, self.rate_scale):
            s = stores[rng.integers(len(stores))]
            if not s.name.endswith("(新址)"):
                s.name += "(新址)"
                s.updated_t = when()
        for s in stores:
            if s.closed_day == day:
                s.updated_t = when()
        if rng.random() < 0.02 * max(1.0, self.rate_scale):
            d = self.network.dealers[rng.integers(len(self.network.dealers))]
            d.tier = {"T1": "T2", "T2": "T1", "T3": "T2"}[d.tier]
            d.updated_t = when()
        return changed_type

    def add_sell_in(
        self,
        day: int,
        rng: np.random.Generator,
        dealer_code: str,
        item: int,
        qty: int,
        clock: Clock,
        cancelled: bool = False,
    ) -> SellIn:
        self._doc_seq += 1
        t = day * DAY + int(rng.integers(9 * 3600, 12 * 3600))
        doc = SellIn(
            doc_no=f"SI{clock.compact_date(day)[2:]}{self._doc_seq:06d}",
            dealer_code=dealer_code,
            item=item,
            qty=qty,
            unit_price=self.dealer_price(item, dealer_code),
            shipped_day=day + 1,
            updated_t=t,
            deleted_t=(day + 1) * DAY + int(rng.integers(8 * 3600, 10 * 3600))
            if cancelled
            else None,
        )
        self.sell_in.append(doc)
        return doc

    # -------------------------------------------------------------- export
    def export(self, path: Path, days: int, clock: Clock, campaigns: list[Campaign]) -> bytes:
        """The ERP as it stands at the cut-off, as SQLite file bytes."""
        cutoff = days * DAY
        cat = self.catalog
        with tempfile.TemporaryDirectory(dir=path.parent if path.parent.exists() else None) as tmp:
            db_path = Path(tmp) / "erp.db"
            db = sqlite3.connect(db_path)
            db.executescript(SCHEMA)
            items = []
            for i in range(cat.size):
                if cat.erp_created_t[i] >= cutoff:
                    continue
                items.append(
                    (
                        cat.item_no[i],
                        self.item_name[i],
                        cat.series[i],
                        cat.model[i],
                        CATEGORY_L1[cat.category[i]],
                        cat.category_l2[i],
                        cat.brand[i],
                        cat.barcode[i],
                        cat.uom[i],
                        cat.unit_cost[i] / 100,
                        ("ACTIVE", "DISCONTINUED")[self.status[i]],
                        clock.local(int(cat.erp_created_t[i])),
                        clock.local(int(max(self.item_updated_t[i], cat.erp_created_t[i]))),
                    )
                )
            for m in self.mistakes:
                if m.created_t < cutoff <= m.deleted_t:
                    s = m.source
                    items.append(
                        (
                            m.item_no,
                            self.item_name[s],
                            cat.series[s],
                            cat.model[s],
                            CATEGORY_L1[cat.category[s]],
                            cat.category_l2[s],
                            cat.brand[s],
                            cat.barcode[s],
                            cat.uom[s],
                            cat.unit_cost[s] / 100,
                            "ACTIVE",
                            clock.local(m.created_t),
                            clock.local(m.created_t),
                        )
                    )
            db.executemany("INSERT INTO erp_item VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", items)
            db.executemany(
                "INSERT INTO erp_store VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        s.code,
                        s.name,
                        s.store_type,
                        s.dealer_code,
                        s.region,
                        s.province,
                        s.city,
                        s.county,
                        clock.date_str(s.opened_day),
                        clock.date_str(s.closed_day)
                        if s.closed_day is not None and s.closed_day < days
                        else None,
                        s.warehouse_code,
                        clock.local(s.updated_t),
                    )
                    for s in self.network.stores
                ],
            )
            db.executemany(
                "INSERT INTO erp_dealer VALUES (?,?,?,?,?,?)",
                [
                    (d.code, d.name, d.tier, d.province, d.city, clock.local(d.updated_t))
                    for d in self.network.dealers
                ],
            )
            db.executemany(
                "INSERT INTO erp_price VALUES (?,?,?,?,?)",
                [
                    (
                        cat.item_no[r.item],
                        CHANNELS[r.channel],
                        r.price / 100,
                        clock.date_str(r.valid_from),
                        clock.date_str(r.valid_to)
                        if r.valid_to is not None and r.valid_to < days
                        else None,
                    )
                    for r in self.price_rows
                    if cat.erp_created_t[r.item] < cutoff and r.valid_from < days
                ],
            )
            db.executemany(
                "INSERT INTO erp_sell_in VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        d.doc_no,
                        d.dealer_code,
                        cat.item_no[d.item],
                        d.qty,
                        d.unit_price / 100,
                        clock.date_str(d.shipped_day),
                        clock.local(d.updated_t),
                    )
                    for d in self.sell_in
                    if d.updated_t < cutoff and (d.deleted_t is None or d.deleted_t >= cutoff)
                ],
            )
            db.executemany(
                "INSERT INTO erp_campaign VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        c.campaign_id,
                        c.name,
                        c.tag,
                        c.channel,
                        clock.local(c.start_t),
                        clock.local(c.end_t),
                        c.marketing_cost_fen / 100,
                    )
                    for c in campaigns
                    if c.start_t < cutoff + 30 * DAY
                ],
            )
            deleted = [
                ("erp_item", m.item_no, m.deleted_t) for m in self.mistakes if m.deleted_t < cutoff
            ]
            deleted += [
                ("erp_sell_in", d.doc_no, d.deleted_t)
                for d in self.sell_in
                if d.deleted_t is not None and d.deleted_t < cutoff
            ]
            deleted.sort(key=lambda row: (row[2], row[0], row[1]))
            db.executemany(
                "INSERT INTO erp_deleted VALUES (?,?,?)",
                [(t, pk, clock.local(at)) for t, pk, at in deleted],
            )
            db.commit()
            db.close()
            return db_path.read_bytes()

    def row_counts(self, data: bytes) -> dict[str, int]:
        with tempfile.NamedTemporaryFile(suffix=".db") as handle:
            handle.write(data)
            handle.flush()
            db = sqlite3.connect(handle.name)
            tables = [
                r[0]
                for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
                )
            ]
            counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
            db.close()
        return counts


# A parity break moves a channel's price at least this far from the store price.
PARITY_BREAK_MIN_SHARE = 0.2


def broken_price(store_fen: int, factor: float) -> int:
    """The channel price (fen) of a parity break: the store price times `factor`, on a
    retail price point, and never rounded back to within 20% of the store price
    (99 x 1.25 rounds to 99 again)."""
    new = price_point(store_fen / 100 * factor)
    step = 500 if new >= 1000 else 50 if new >= 100 else 10
    while abs(new * 100 - store_fen) < PARITY_BREAK_MIN_SHARE * store_fen:
        new += step if factor > 1 else -step
    return new * 100
