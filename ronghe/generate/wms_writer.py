"""WMS files: hourly movement batches, daily snapshots and shipments, the item master.

Movements go to the file of the hour they happened in, except late ones
(a later hour's file of the same day) and batches delivered again as
`<YYYYMMDDHH>_2.jsonl` (the same movements, sometimes with ones the first
delivery missed). Every file of a day is final when the day ends.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from ronghe.generate.clock import DAY, HOUR, Clock
from ronghe.generate.defects import DefectLog, DefectPlan
from ronghe.generate.inventory import MOVEMENT_TYPES, REF_TYPES, Inventory, Movement
from ronghe.generate.jsonl import js
from ronghe.generate.products import Catalog
from ronghe.generate.streams import stream


class WmsWriter:
    def __init__(
        self, seed: int, files, clock: Clock, inventory: Inventory, catalog: Catalog
    ) -> None:
        self.seed = seed
        self.files = files
        self.clock = clock
        self.inventory = inventory
        self.catalog = catalog
        locations = inventory.network.locations
        self._loc_code = [loc.code for loc in locations]
        self._position_json = [
            f'"warehouse_code":"{locations[int(loc)].code}","warehouse_tier":"{locations[int(loc)].tier}",'
            f'"wms_sku":"{catalog.wms_sku[int(item)]}",'
            for loc, item in zip(inventory.pos_loc, inventory.pos_item, strict=True)
        ]
        self.counts: Counter[str] = Counter()
        # Snapshot rows are listed by warehouse, then SKU.
        wms_sku = np.array(catalog.wms_sku)[inventory.pos_item]
        codes = np.array(self._loc_code)[inventory.pos_loc]
        self._display_order = np.lexsort((wms_sku, codes))

    def write_day(self, day: int, shipments: list[str], plan: DefectPlan, log: DefectLog) -> None:
        self._movements(day, plan, log)
        self._snapshot(day)
        self.files.write(
            f"wms/shipments/{self.clock.compact_date(day)}.jsonl",
            "".join(line + "\n" for line in shipments).encode("utf-8"),
        )
        self.counts["wms_shipment_rows"] += len(shipments)

    def _movement_json(self, movement_id: str, m: Movement) -> str:
        inv = self.inventory
        ref_type = REF_TYPES[m.ref_type]
        return (
            f'{{"movement_id":"{movement_id}","moved_at":"{self.clock.iso_local(m.t)}",'
            f'"warehouse_code":"{self._loc_code[inv.pos_loc[m.position]]}",'
            f'"wms_sku":"{self.catalog.wms_sku[inv.pos_item[m.position]]}","qty":{m.qty},'
            f'"movement_type":"{MOVEMENT_TYPES[m.kind]}","ref_type":{js(ref_type)},"ref_id":{js(m.ref_id)}}}'
        )

    def _movements(self, day: int, plan: DefectPlan, log: DefectLog) -> None:
        rng = stream(self.seed, "day", day, "wms-files")
        moves = sorted(self.inventory.moves, key=lambda m: (m.t, m.position, m.kind))
        label = self.clock.compact_date(day)
        batches: dict[int, list[tuple[str, str]]] = {}
        for k, m in enumerate(moves, start=1):
            movement_id = f"MV{label[2:]}{k:07d}"
            hour = (m.t - day * DAY) // HOUR
            batches.setdefault(hour, []).append((movement_id, self._movement_json(movement_id, m)))
        late: dict[int, list[tuple[str, str]]] = {}
        early_hours = [h for h in sorted(batches) if h <= 20 and len(batches[h]) > 1]
        while early_hours and plan.take("wms_late_movement"):
            hour = early_hours[int(rng.integers(len(early_hours)))]
            movement = batches[hour].pop(int(rng.integers(len(batches[hour]))))
            arrives = hour + 1 + int(rng.integers(0, 3))
            late.setdefault(arrives, []).append(movement)
            log.add(
                "wms_late_movement",
                f"wms/movements/{label}{arrives:02d}.jsonl",
                movement[0],
                f"moved in hour {hour:02d}, delivered in the {arrives:02d} batch",
            )
            if len(batches[hour]) <= 1:
                early_hours.remove(hour)
        # hour -> movements only its re-delivery carries (the re-delivery repeats the rest).
        held_back: dict[int, list[tuple[str, str]]] = {}
        while early_hours and plan.take("wms_redelivered_batch"):
            hour = early_hours.pop(int(rng.integers(len(early_hours))))
            full = list(batches[hour])
            name = f"{label}{hour:02d}"
            held_back[hour] = []
            if rng.random() < 0.5 and len(full) > 2:
                held = int(rng.integers(1, min(3, len(full) - 1) + 1))
                batches[hour] = full[:-held]
                held_back[hour] = full[-held:]
                for movement_id, _ in full[-held:]:
                    log.add(
                        "wms_late_movement",
                        f"wms/movements/{name}_2.jsonl",
                        movement_id,
                        "missing from the first delivery of its hour, present in the re-delivery",
                    )
            log.add(
                "wms_redelivered_batch",
                f"wms/movements/{name}_2.jsonl",
                name,
                "batch delivered again (same movements, possibly with late ones added)",
            )
        hours = sorted(set(batches) | set(late))
        for hour in hours:
            rows = [j for _, j in batches.get(hour, [])] + [j for _, j in late.get(hour, [])]
            self._write_batch(f"{label}{hour:02d}.jsonl", rows)
            if hour in held_back:
                self._write_batch(
                    f"{label}{hour:02d}_2.jsonl", rows + [j for _, j in held_back[hour]]
                )
        self.counts["wms_movements"] += len(moves)

    def _write_batch(self, name: str, rows: list[str]) -> None:
        self.files.write(f"wms/movements/{name}", "".join(r + "\n" for r in rows).encode("utf-8"))
        self.counts["wms_movement_files"] += 1
        self.counts["wms_movement_rows"] += len(rows)

    def _snapshot(self, day: int) -> None:
        inv = self.inventory
        order = self._display_order
        positions = order[inv.active_from[order] <= day]
        head = f'{{"snapshot_date":"{self.clock.date_str(day)}",'
        pj = self._position_json
        on_hand = inv.on_hand[positions].tolist()
        allocated = inv.allocated[positions].tolist()
        in_transit = inv.in_transit[positions].tolist()
        text = "".join(
            [
                f'{head}{pj[p]}"on_hand":{a},"allocated":{b},"in_transit":{c}}}\n'
                for p, a, b, c in zip(
                    positions.tolist(), on_hand, allocated, in_transit, strict=True
                )
            ]
        )
        self.files.write(
            f"wms/snapshots/{self.clock.compact_date(day)}.jsonl", text.encode("utf-8")
        )
        self.counts["wms_snapshot_rows"] += len(positions)

    def write_items(self, days: int) -> None:
        """The item master as last re-sent: a row per SKU, plus the old row of SKUs fixed lately."""
        cutoff = days * DAY
        cat = self.catalog
        rows: list[str] = []
        for i in np.argsort(np.array(cat.wms_sku), kind="stable"):
            i = int(i)
            created = int(cat.wms_created_t[i])
            if created >= cutoff:
                continue
            fixed = 0 <= int(cat.wms_fix_t[i]) < cutoff
            versions = [(created, cat.wms_item_no[i])]
            if fixed:
                versions.append((int(cat.wms_fix_t[i]), cat.item_no[i]))
            for t, item_no in versions:
                rows.append(
                    json.dumps(
                        {
                            "wms_sku": cat.wms_sku[i],
                            "barcode": cat.barcode[i],
                            "item_no": item_no,
                            "description": cat.wms_description[i],
                            "updated_at": self.clock.iso_local(t),
                        },
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
                )
        self.files.write("wms/items.jsonl", "".join(r + "\n" for r in rows).encode("utf-8"))
        self.counts["wms_items_rows"] = len(rows)
