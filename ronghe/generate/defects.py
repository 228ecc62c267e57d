"""Defects injected on purpose, and the log that becomes `_truth/defects.csv`.

Each kind has a low daily rate (scaled with the estate's volume) and a fixed
early day on which it is forced, so a 10-day estate holds every kind at least
once. Injection sites ask the plan for a token (`take`); a token not used on
its day (no opportunity) carries over to the next day. Every decision depends
only on the seed and the day, never on how many days the estate covers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ronghe.generate.streams import stream

# kind -> (events per day at scale factor 1, forced window day or None)
KINDS: dict[str, tuple[float, int | None]] = {
    "malformed_row": (0.5, 1),
    "duplicate_line": (1.2, 0),
    "resent_drop_identical": (0.3, 1),
    "resent_drop_corrected": (0.25, 2),
    "incomplete_drop": (0.15, 3),
    "wms_redelivered_batch": (0.5, 1),
    "wms_late_movement": (1.5, 0),
    "stock_discrepancy": (0.6, 2),
    "negative_stock": (0.1, 4),
    "night_order_burst": (0.05, 5),
    "sales_spike": (0.06, 8),
    "price_parity_break": (0.05, 3),
    "reused_coupon": (0.15, 5),
    "channel_stuffing": (0.06, 6),
    "return_without_sale": (0.15, 2),
    "bopis_unknown_order": (0.1, 3),
    "unknown_barcode": (0.3, 1),
}
# Kinds that mark a store-day, platform-night, price, dealer-item or hourly batch: rarer as
# volume grows.
FLAT_RATE = {
    "night_order_burst",
    "sales_spike",
    "price_parity_break",
    "channel_stuffing",
    "wms_redelivered_batch",
}


class DefectPlan:
    def __init__(self, seed: int, rate_scale: float) -> None:
        self.seed = seed
        self.rate_scale = rate_scale
        self._tokens: dict[str, int] = dict.fromkeys(KINDS, 0)

    def start_day(self, day: int) -> None:
        rng = stream(self.seed, "day", day, "defects")
        for kind, (rate, forced_day) in KINDS.items():
            # FLAT_RATE kinds grow with the square root of volume, the others in proportion.
            lam = rate * (
                max(1.0, self.rate_scale) ** 0.5 if kind in FLAT_RATE else self.rate_scale
            )
            self._tokens[kind] += int(rng.poisson(lam)) + (1 if forced_day == day else 0)

    def take(self, kind: str) -> bool:
        if self._tokens[kind] > 0:
            self._tokens[kind] -= 1
            return True
        return False

    def pending(self, kind: str) -> int:
        return self._tokens[kind]


@dataclass(frozen=True)
class Defect:
    kind: str
    location: str
    record_key: str
    description: str


class DefectLog:
    def __init__(self) -> None:
        self.rows: list[Defect] = []

    def add(self, kind: str, location: str, record_key: str, description: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"undocumented defect kind {kind!r}")
        self.rows.append(Defect(kind, location, record_key, description))

    def to_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("defect_id", "kind", "location", "record_key", "description"))
        for n, d in enumerate(self.rows, start=1):
            writer.writerow((f"D{n:06d}", d.kind, d.location, d.record_key, d.description))
        return out.getvalue().encode("utf-8")

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        for d in self.rows:
            counts[d.kind] += 1
        return counts
