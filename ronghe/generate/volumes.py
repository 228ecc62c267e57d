"""How big an estate is: everything grows linearly with the scale factor.

Scale factor 1 is about 100,000 sales lines (POS lines plus online order
items) over 90 days, 50 stores, 2,000 items and 50,000 people. Minimums keep
tiny estates (SF 0.01 over 10 days, used by tests) complete: every store type,
both POS vendors, every platform, fulfilment type, quirk and defect kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

REFERENCE_DAYS = 90


@dataclass(frozen=True)
class Volumes:
    scale: float
    stores: int
    dealers: int
    items: int
    people: int
    """People at the end of a 90-day window; half already existed before it."""
    sales_lines_per_day: float
    regional_warehouses: int
    front_warehouses: int

    @property
    def store_lines_per_day(self) -> float:
        return self.sales_lines_per_day * STORE_SHARE

    @property
    def online_lines_per_day(self) -> float:
        return self.sales_lines_per_day * (1 - STORE_SHARE)

    @property
    def arrivals_per_day(self) -> float:
        """New people per day (the other half of the 90-day population)."""
        return self.people * NEW_PEOPLE_SHARE / REFERENCE_DAYS

    @property
    def historic_people(self) -> int:
        return round(self.people * (1 - NEW_PEOPLE_SHARE))

    @property
    def rate_scale(self) -> float:
        """Multiplier for per-day defect and event rates (1.0 at SF 1)."""
        return self.sales_lines_per_day / (100_000 / REFERENCE_DAYS)


STORE_SHARE = 0.56
NEW_PEOPLE_SHARE = 0.5


def volumes_for(scale: float) -> Volumes:
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    stores = max(12, round(50 * scale))
    dealer_stores = max(3, round(stores * 0.28))
    return Volumes(
        scale=scale,
        stores=stores,
        dealers=max(2, math.ceil(dealer_stores / 2)),
        items=max(160, round(2_000 * scale)),
        people=max(1_200, round(50_000 * scale)),
        sales_lines_per_day=max(220.0, 100_000 * scale / REFERENCE_DAYS),
        regional_warehouses=min(7, max(2, round(stores / 10))),
        front_warehouses=min(120, max(2, round(6 * scale))),
    )
