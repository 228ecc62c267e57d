"""The WMS's own events of a day: count corrections, replenishment and injected discrepancies."""

from __future__ import annotations

import numpy as np

from ronghe.generate.clock import DAY, Clock
from ronghe.generate.defects import DefectLog, DefectPlan
from ronghe.generate.inventory import ADJUST, REF_NONE, Inventory
from ronghe.generate.streams import stream

ADJUSTMENTS_PER_DAY = 0.6


class WmsDay:
    def __init__(self, seed: int, inventory: Inventory, clock: Clock, rate_scale: float) -> None:
        self.seed = seed
        self.inventory = inventory
        self.clock = clock
        self.rate_scale = rate_scale
        self._corrections: dict[int, list[tuple[int, int]]] = {}

    def close_day(self, day: int, plan: DefectPlan, log: DefectLog) -> None:
        inv = self.inventory
        rng = stream(self.seed, "day", day, "wms")
        for pos, qty in self._corrections.pop(day, []):
            inv.put_back(
                day * DAY + 9 * 3600 + int(rng.integers(0, 3600)), pos, qty, ADJUST, REF_NONE, None
            )
        active = np.flatnonzero((inv.active_from <= day) & (inv.avail >= 1))
        for _ in range(int(rng.poisson(ADJUSTMENTS_PER_DAY * self.rate_scale))):
            pos = int(active[rng.integers(len(active))])
            if inv.avail[pos] >= 1:
                inv.avail[pos] -= 1
                inv.move(
                    day * DAY + 20 * 3600 + int(rng.integers(0, 3600)),
                    pos,
                    -1,
                    ADJUST,
                    REF_NONE,
                    None,
                )
        date = self.clock.date_str(day)
        snapshot_file = f"wms/snapshots/{self.clock.compact_date(day)}.jsonl"
        if plan.pending("negative_stock"):
            stores = active[(inv.allocated[active] == 0) & ~inv.dealer_position[active]]
            if len(stores):
                plan.take("negative_stock")
                pos = int(stores[rng.integers(len(stores))])
                wrong = int(inv.avail[pos]) + 1 + int(rng.integers(0, 2))
                inv.avail[pos] -= wrong
                inv.move(
                    day * DAY + 21 * 3600 + int(rng.integers(0, 1800)),
                    pos,
                    -wrong,
                    ADJUST,
                    REF_NONE,
                    None,
                )
                self._corrections.setdefault(day + 1, []).append((pos, wrong))
                log.add(
                    "negative_stock",
                    snapshot_file,
                    self._key(pos, date),
                    f"a mistaken ADJUST of -{wrong} took on_hand below zero; reversed next morning",
                )
        inv.replenish(day, rng, self.clock.compact_date(day)[2:])
        inv.end_day()
        while plan.pending("stock_discrepancy"):
            candidates = np.flatnonzero(
                (inv.active_from <= day) & (inv.on_hand - inv.allocated >= 3)
            )
            if not len(candidates):
                break
            plan.take("stock_discrepancy")
            pos = int(candidates[rng.integers(len(candidates))])
            delta = -int(rng.integers(1, 4)) if rng.random() < 0.75 else int(rng.integers(1, 3))
            inv.adjust_unbooked(pos, delta)
            log.add(
                "stock_discrepancy",
                snapshot_file,
                self._key(pos, date),
                f"on_hand differs by {delta:+d} from the last snapshot plus the day's movements",
            )

    def _key(self, pos: int, date: str) -> str:
        inv = self.inventory
        code = inv.network.locations[int(inv.pos_loc[pos])].code
        return f"{code}/{inv.catalog.wms_sku[int(inv.pos_item[pos])]}/{date}"
