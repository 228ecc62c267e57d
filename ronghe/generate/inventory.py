"""Stock positions and movements across the warehouse network (the WMS's view).

A position is a (location, SKU) pair that exists from a given day. Every
change to `on_hand` is a movement, so yesterday's on_hand plus today's
movements equals today's on_hand, except where a discrepancy is injected on
purpose. Availability (`on_hand - allocated`) is tracked during the day so
sales never take stock that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ronghe.generate.clock import DAY
from ronghe.generate.products import Catalog
from ronghe.generate.stores import CENTRAL, FRONT, REGIONAL, STORE, TYPE_ASSORTMENT, Network
from ronghe.generate.streams import stream
from ronghe.generate.volumes import Volumes

MOVEMENT_TYPES = (
    "RECEIPT",
    "PICK",
    "SHIP",
    "TRANSFER_OUT",
    "TRANSFER_IN",
    "ADJUST",
    "RETURN",
    "SALE",
)
RECEIPT, PICK, SHIP, TRANSFER_OUT, TRANSFER_IN, ADJUST, RETURN, SALE = range(8)
REF_TYPES = ("PO", "ECOM_ORDER", "TRANSFER", "POS_TXN", None)
REF_PO, REF_ORDER, REF_TRANSFER, REF_POS, REF_NONE = range(5)

REGIONAL_MAX_SKUS = 4_000
FRONT_MAX_SKUS = 200


@dataclass
class Movement:
    t: int
    position: int
    qty: int
    kind: int
    ref_type: int
    ref_id: str | None


class Inventory:
    def __init__(self, seed: int, network: Network, catalog: Catalog, volumes: Volumes) -> None:
        self.seed = seed
        self.network = network
        self.catalog = catalog
        rng = stream(seed, "inventory")
        locs: list[int] = []
        items: list[np.ndarray] = []
        demand: list[np.ndarray] = []
        parents: list[int] = []
        pop = catalog.popularity / catalog.popularity.sum()
        online_daily = volumes.online_lines_per_day * pop
        store_daily_total = volumes.store_lines_per_day
        traffic = np.array([s.traffic for s in network.stores])
        by_pop = np.argsort(-catalog.popularity, kind="stable")
        n = catalog.size

        locs.append(network.central)
        items.append(np.arange(n))
        demand.append(online_daily + store_daily_total * pop)
        parents.append(-1)
        regional_items = np.sort(by_pop[: min(n, REGIONAL_MAX_SKUS, max(60, int(0.35 * n)))])
        for region, loc in network.regional_of_region.items():
            share = sum(s.traffic for s in network.stores if s.region == region) / traffic.sum()
            locs.append(loc)
            items.append(regional_items)
            demand.append(store_daily_total * share * pop[regional_items] * 3 + 0.05)
            parents.append(network.central)
        front_items = np.sort(by_pop[: min(n, FRONT_MAX_SKUS)])
        for loc in network.front_of_city.values():
            locs.append(loc)
            items.append(front_items)
            demand.append(online_daily[front_items] * 0.08 + 0.05)
            parents.append(
                network.regional_of_region.get(network.locations[loc].region, network.central)
            )
        self.store_items: list[np.ndarray] = []
        for store in network.stores:
            size = min(TYPE_ASSORTMENT[store.store_type], int(0.6 * n))
            p = catalog.popularity / catalog.popularity.sum()
            chosen = np.sort(rng.choice(n, size=size, replace=False, p=p))
            self.store_items.append(chosen)
            locs.append(store.location)
            items.append(chosen)
            store_share = store.traffic / traffic.sum()
            demand.append(store_daily_total * store_share * pop[chosen] / pop[chosen].sum())
            parents.append(network.parent_of_store(store))

        self.pos_loc = np.concatenate(
            [np.full(len(i), loc, dtype=np.int32) for loc, i in zip(locs, items, strict=True)]
        )
        self.pos_item = np.concatenate(items).astype(np.int32)
        daily = np.concatenate(demand)
        tiers = np.array([network.locations[loc].tier for loc in self.pos_loc])
        is_store = tiers == STORE
        cover_min = np.select([tiers == CENTRAL, tiers == REGIONAL, tiers == FRONT], [12, 6, 3], 3)
        cover_max = np.select([tiers == CENTRAL, tiers == REGIONAL, tiers == FRONT], [30, 14, 7], 8)
        floor_min = np.select([tiers == CENTRAL, tiers == REGIONAL], [15, 4], 1)
        self.min_level = np.maximum(floor_min, np.ceil(daily * cover_min)).astype(np.int64)
        self.max_level = np.maximum(
            self.min_level + np.where(is_store, 2, 10), np.ceil(daily * cover_max)
        ).astype(np.int64)
        self.index: dict[tuple[int, int], int] = {
            (int(loc), int(it)): k
            for k, (loc, it) in enumerate(zip(self.pos_loc, self.pos_item, strict=True))
        }
        parent_loc = np.concatenate(
            [np.full(len(i), p, dtype=np.int32) for p, i in zip(parents, items, strict=True)]
        )
        self.parent = np.array(
            [
                self.index.get((int(pl), int(it)), self.index[(network.central, int(it))])
                if pl >= 0
                else -1
                for pl, it in zip(parent_loc, self.pos_item, strict=True)
            ],
            dtype=np.int64,
        )
        store_of_loc = {s.location: s for s in network.stores}
        open_day = np.array(
            [
                store_of_loc[int(loc)].opened_day if int(loc) in store_of_loc else -(10**6)
                for loc in self.pos_loc
            ]
        )
        self.active_from = np.maximum(
            (catalog.wms_created_t[self.pos_item] // DAY) + np.where(is_store, 3, 0), open_day - 3
        ).astype(np.int32)
        self.dealer_position = np.array(
            [
                int(loc) in store_of_loc and store_of_loc[int(loc)].store_type == "DEALER"
                for loc in self.pos_loc
            ]
        )
        size = len(self.pos_loc)
        self.on_hand = np.where(
            self.active_from <= 0, rng.integers(self.min_level, self.max_level + 1), 0
        ).astype(np.int64)
        self.allocated = np.zeros(size, dtype=np.int64)
        self.in_transit = np.zeros(size, dtype=np.int64)
        self.avail = self.on_hand.copy()
        self.store_positions = [
            np.array(
                [self.index[(s.location, int(i))] for i in self.store_items[s.index]],
                dtype=np.int64,
            )
            for s in network.stores
        ]
        self.moves: list[Movement] = []
        self._arrivals: dict[int, list[tuple[int, int, int, str, int]]] = {}
        self._outbound: dict[int, list[tuple[int, int, int, str]]] = {}
        self._transfer_seq = 0

    @property
    def size(self) -> int:
        return len(self.pos_loc)

    def position(self, location: int, item: int) -> int | None:
        return self.index.get((location, item))

    # ------------------------------------------------------------ day events
    def start_day(self, day: int, rng: np.random.Generator) -> None:
        self.moves = []
        self.avail = self.on_hand - self.allocated
        for pos, qty, ref_type, ref, t in self._arrivals.pop(day, []):
            kind = RECEIPT if ref_type == REF_PO else TRANSFER_IN
            self.moves.append(Movement(t, pos, qty, kind, ref_type, ref))
            self.in_transit[pos] -= qty
            self.avail[pos] += qty
        for src, dst, qty, ref in self._outbound.pop(day, []):
            self._ship_transfer(day, rng, src, dst, qty, ref)

    def take(self, pos: int, qty: int) -> bool:
        """Reserve stock for a sale made now; False when it is not there."""
        if self.avail[pos] < qty:
            return False
        self.avail[pos] -= qty
        return True

    def move(self, t: int, pos: int, qty: int, kind: int, ref_type: int, ref: str | None) -> None:
        self.moves.append(Movement(t, pos, qty, kind, ref_type, ref))

    def allocate(self, pos: int, qty: int) -> bool:
        if self.avail[pos] < qty:
            return False
        self.avail[pos] -= qty
        self.allocated[pos] += qty
        return True

    def release(self, pos: int, qty: int) -> None:
        self.avail[pos] += qty
        self.allocated[pos] -= qty

    def consume_allocated(self, t: int, pos: int, qty: int, kind: int, ref: str) -> None:
        self.allocated[pos] -= qty
        self.moves.append(Movement(t, pos, -qty, kind, REF_ORDER, ref))

    def put_back(
        self, t: int, pos: int, qty: int, kind: int, ref_type: int, ref: str | None
    ) -> None:
        self.avail[pos] += qty
        self.moves.append(Movement(t, pos, qty, kind, ref_type, ref))

    def schedule_transfer(self, day: int, src: int, dst: int, qty: int, ref: str) -> None:
        self._outbound.setdefault(day, []).append((src, dst, qty, ref))

    def next_transfer_ref(self, day_label: str) -> str:
        self._transfer_seq += 1
        return f"TR{day_label}{self._transfer_seq:06d}"

    def _ship_transfer(
        self, day: int, rng: np.random.Generator, src: int, dst: int, qty: int, ref: str
    ) -> None:
        if self.avail[src] < qty:
            central = self.index[(self.network.central, int(self.pos_item[dst]))]
            if self.avail[central] >= qty:
                src = central
            else:
                qty = int(max(0, self.avail[src]))
        if qty <= 0:
            return
        t_out = day * DAY + int(rng.integers(17 * 3600, 20 * 3600))
        self.avail[src] -= qty
        self.moves.append(Movement(t_out, src, -qty, TRANSFER_OUT, REF_TRANSFER, ref))
        self.in_transit[dst] += qty
        arrive = day + 1 + int(rng.random() < 0.25)
        self._arrivals.setdefault(arrive, []).append(
            (dst, qty, REF_TRANSFER, ref, arrive * DAY + int(rng.integers(8 * 3600, 11 * 3600)))
        )

    def replenish(self, day: int, rng: np.random.Generator, day_label: str) -> None:
        """Evening replenishment: min/max transfers down the network, purchase orders upstream."""
        active = self.active_from <= day + 1
        level = self.avail + self.in_transit
        short = active & (level < self.min_level) & ~self.dealer_position
        need = np.where(short, self.max_level - level, 0)
        refs: dict[tuple[int, int], str] = {}
        po_ref = f"PO{day_label}{rng.integers(1000, 9999)}"
        for pos in np.flatnonzero(need):
            pos = int(pos)
            qty = int(need[pos])
            src = int(self.parent[pos])
            if src < 0:
                self.in_transit[pos] += qty
                lead = 2 + int(rng.integers(0, 3))
                t = (day + lead) * DAY + int(rng.integers(9 * 3600, 16 * 3600))
                self._arrivals.setdefault(day + lead, []).append((pos, qty, REF_PO, po_ref, t))
                continue
            qty = min(qty, int(self.avail[src]))
            if qty <= 0:
                continue
            key = (int(self.pos_loc[src]), int(self.pos_loc[pos]))
            if key not in refs:
                refs[key] = self.next_transfer_ref(day_label)
            self._ship_transfer(day, rng, src, pos, qty, refs[key])

    def end_day(self) -> None:
        """Book the day's movements into on_hand."""
        if self.moves:
            pos = np.fromiter(
                (m.position for m in self.moves), dtype=np.int64, count=len(self.moves)
            )
            qty = np.fromiter((m.qty for m in self.moves), dtype=np.int64, count=len(self.moves))
            np.add.at(self.on_hand, pos, qty)

    def adjust_unbooked(self, pos: int, delta: int) -> None:
        """A physical change the WMS never booked: the snapshot disagrees with the movements."""
        self.on_hand[pos] += delta
        self.avail[pos] += delta
