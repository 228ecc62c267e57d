"""Stores, dealers and the warehouse network.

A store is an ERP `store_code`, a POS folder, a WMS stockroom
(`warehouse_code`) and a pick-up point. DIRECT and POPUP stores run vendor
A's tills, AUTHORISED and DEALER stores vendor B's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ronghe.generate.clock import DAY
from ronghe.generate.geo import CITIES, LANDMARKS, PROVINCE_REGION, REGIONS, City
from ronghe.generate.streams import stream
from ronghe.generate.volumes import Volumes

STORE_TYPES = ("DIRECT", "AUTHORISED", "DEALER", "POPUP")
TYPE_SHARE = {"DIRECT": 0.34, "AUTHORISED": 0.28, "DEALER": 0.28, "POPUP": 0.10}
TYPE_MINIMUM = {"DIRECT": 3, "AUTHORISED": 3, "DEALER": 3, "POPUP": 1}
TYPE_TRAFFIC = {"DIRECT": 1.4, "AUTHORISED": 1.0, "DEALER": 0.8, "POPUP": 0.6}
TYPE_TILLS = {"DIRECT": 4, "AUTHORISED": 2, "DEALER": 2, "POPUP": 1}
TYPE_ASSORTMENT = {"DIRECT": 190, "AUTHORISED": 140, "DEALER": 110, "POPUP": 50}
TYPE_SUFFIX = {"DIRECT": "体验店", "AUTHORISED": "授权店", "DEALER": "专营店", "POPUP": "快闪店"}

CENTRAL, REGIONAL, FRONT, STORE = "CENTRAL", "REGIONAL", "FRONT", "STORE"
REGION_CODES = {
    "华东": "EC",
    "华南": "SC",
    "华北": "NC",
    "华中": "CC",
    "西南": "SW",
    "西北": "NW",
    "东北": "NE",
}


def vendor_of(store_type: str) -> str:
    return "A" if store_type in ("DIRECT", "POPUP") else "B"


@dataclass
class Dealer:
    code: str
    name: str
    tier: str
    province: str
    city: str
    updated_t: int
    order_every_days: int
    order_phase: int


@dataclass
class Store:
    index: int
    code: str
    name: str
    store_type: str
    dealer_code: str | None
    region: str
    province: str
    city: str
    county: str
    opened_day: int
    closed_day: int | None
    warehouse_code: str
    location: int
    """Index of the stockroom in Network.locations."""
    updated_t: int
    traffic: float
    tills: int
    bom: bool
    """Vendor A till that writes a UTF-8 BOM."""
    closures: frozenset[int] = field(default_factory=frozenset)
    """Days closed for works (header-only drops)."""
    type_changed_day: int | None = None
    """The window day the store changed type, if it did."""

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def vendor(self) -> str:
        return vendor_of(self.store_type)

    def trades_on(self, day: int) -> bool:
        return (
            self.opened_day <= day
            and (self.closed_day is None or day < self.closed_day)
            and (day not in self.closures)
        )

    def sends_drop_on(self, day: int) -> bool:
        """Tills keep sending (empty) drops on closure days and two days after closing."""
        if day < self.opened_day:
            return False
        return self.closed_day is None or day < self.closed_day + 2


@dataclass(frozen=True)
class Location:
    index: int
    code: str
    tier: str
    region: str
    city: str


@dataclass
class Network:
    stores: list[Store]
    dealers: list[Dealer]
    locations: list[Location]
    central: int
    regional_of_region: dict[str, int]
    front_of_city: dict[str, int]
    _dealer_index: dict[str, Dealer] = field(default_factory=dict, repr=False)

    def parent_of_store(self, store: Store) -> int:
        return self.regional_for(store.province)

    def regional_for(self, province: str) -> int:
        """The regional warehouse serving a province (central where the region has none)."""
        return self.regional_of_region.get(PROVINCE_REGION[province], self.central)

    def dealer(self, code: str) -> Dealer:
        if len(self._dealer_index) != len(self.dealers):
            self._dealer_index = {d.code: d for d in self.dealers}
        return self._dealer_index[code]


def new_dealer(rng: np.random.Generator, number: int, city: City, updated_t: int) -> Dealer:
    word = ("恒通", "鑫达", "联创", "华信", "盛世", "宏远", "金桥", "天翼", "众诚", "永兴")[
        rng.integers(10)
    ]
    return Dealer(
        code=f"D{number:04d}",
        name=f"{city.city.removesuffix('市')}{word}通讯器材有限公司",
        tier=("T1", "T2", "T3")[rng.choice(3, p=(0.2, 0.5, 0.3))],
        province=city.province,
        city=city.city,
        updated_t=updated_t,
        order_every_days=int(rng.integers(3, 6)),
        order_phase=int(rng.integers(0, 5)),
    )


def _type_counts(n: int) -> dict[str, int]:
    counts = {t: max(TYPE_MINIMUM[t], round(n * TYPE_SHARE[t])) for t in STORE_TYPES}
    counts["DIRECT"] += n - sum(counts.values())
    return counts


def build_network(seed: int, volumes: Volumes) -> Network:
    rng = stream(seed, "network")
    city_weights = np.array([c.weight for c in CITIES], dtype=float)
    city_p = city_weights / city_weights.sum()

    dealers = []
    for k in range(volumes.dealers):
        city = CITIES[rng.choice(len(CITIES), p=city_p)]
        updated_t = -int(rng.integers(30, 900)) * DAY + int(rng.integers(9, 18)) * 3600
        dealers.append(new_dealer(rng, k + 1, city, updated_t))

    types: list[str] = []
    for store_type, count in _type_counts(volumes.stores).items():
        types += [store_type] * count
    types = [types[i] for i in rng.permutation(len(types))]

    locations: list[Location] = [Location(0, "WH-CN01", CENTRAL, "华东", "上海市")]
    regions_by_size = sorted(
        REGIONS, key=lambda r: -sum(c.weight for c in CITIES if PROVINCE_REGION[c.province] == r)
    )
    regional_of_region = {}
    for region in regions_by_size[: volumes.regional_warehouses]:
        city = max(
            (c for c in CITIES if PROVINCE_REGION[c.province] == region), key=lambda c: c.weight
        )
        regional_of_region[region] = len(locations)
        locations.append(
            Location(len(locations), f"WH-{REGION_CODES[region]}01", REGIONAL, region, city.city)
        )
    front_of_city = {}
    for rank, ci in enumerate(np.argsort(-city_weights, kind="stable")[: volumes.front_warehouses]):
        city = CITIES[ci]
        front_of_city[city.city] = len(locations)
        locations.append(
            Location(
                len(locations),
                f"FW-{rank + 1:03d}",
                FRONT,
                PROVINCE_REGION[city.province],
                city.city,
            )
        )

    stores: list[Store] = []
    used_names: set[str] = set()
    dealer_cursor = 0
    for i, store_type in enumerate(types):
        city = CITIES[rng.choice(len(CITIES), p=city_p)]
        county = city.districts[rng.integers(len(city.districts))]
        name = ""
        for _ in range(50):
            landmark = LANDMARKS[rng.integers(len(LANDMARKS))]
            name = f"融合数码{city.city.removesuffix('市')}{landmark}{TYPE_SUFFIX[store_type]}"
            if name not in used_names:
                break
            suffix = TYPE_SUFFIX[store_type]
            name = f"{name.removesuffix(suffix)}{len(used_names) % 97 + 2}号{suffix}"
        used_names.add(name)
        dealer_code = None
        if store_type == "DEALER":
            dealer_code = dealers[dealer_cursor % len(dealers)].code
            dealer_cursor += 1
        number = i + 1
        # Most stockrooms are numbered after the store; relocated stores kept an old number.
        stock_number = number if rng.random() < 0.9 else 5000 + number
        opened_day = -int(rng.integers(60, 3000))
        closed_day = None
        if store_type == "POPUP":
            opened_day = -int(rng.integers(5, 40))
            closed_day = opened_day + int(rng.integers(45, 120))
        closures: set[int] = set()
        if rng.random() < 0.06:
            first = int(rng.integers(0, 150))
            closures = set(range(first, first + int(rng.integers(2, 5))))
        location = Location(
            len(locations),
            f"ST{stock_number:04d}",
            STORE,
            PROVINCE_REGION[city.province],
            city.city,
        )
        locations.append(location)
        stores.append(
            Store(
                index=i,
                code=f"S{number:04d}",
                name=name,
                store_type=store_type,
                dealer_code=dealer_code,
                region=PROVINCE_REGION[city.province],
                province=city.province,
                city=city.city,
                county=county,
                opened_day=opened_day,
                closed_day=closed_day,
                warehouse_code=location.code,
                location=location.index,
                updated_t=-int(rng.integers(10, 400)) * DAY + int(rng.integers(9, 18)) * 3600,
                traffic=TYPE_TRAFFIC[store_type] * float(rng.lognormal(0, 0.3)) * city.weight**0.25,
                tills=TYPE_TILLS[store_type],
                bom=store_type in ("DIRECT", "POPUP") and rng.random() < 0.4,
                closures=frozenset(closures),
            )
        )
    _schedule_fixed_events(rng, stores)
    return Network(stores, dealers, locations, 0, regional_of_region, front_of_city)


def _schedule_fixed_events(rng: np.random.Generator, stores: list[Store]) -> None:
    """Short estates still see a store open, a store close and a closure for works."""
    direct = [s for s in stores if s.store_type == "DIRECT"]
    opening = direct[-1]
    opening.opened_day = 4
    popups = [s for s in stores if s.store_type == "POPUP"]
    popups[0].opened_day = -int(rng.integers(40, 80))
    popups[0].closed_day = 6
    works = next(s for s in stores if s.store_type in ("AUTHORISED", "DEALER"))
    works.closures = frozenset({3, 4})
