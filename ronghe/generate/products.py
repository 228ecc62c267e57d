"""The product catalogue: series > model > item, barcodes, WMS SKUs and marketplace listings.

One product is an ERP `item_no`, an EAN-13 barcode at the till, a `wms_sku`
and a `platform_sku` per marketplace. Imported brands carry barcodes that
start with 0 (vendor B's tills lose that zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ronghe.generate.clock import DAY
from ronghe.generate.streams import stream

PHONE, TABLET, WEARABLE, ACCESSORY = range(4)
CATEGORY_L1 = ("手机", "平板", "智能穿戴", "配件")
CHANNELS = ("STORE", "MALL", "TMALL", "JD")
PLATFORMS = ("MALL", "TMALL", "JD")


@dataclass(frozen=True)
class Brand:
    code: str
    name: str
    barcode_prefix: str
    series: tuple[tuple[int, str, str, str], ...]
    """(category, series name, model letter(s), category_l2)."""


BRANDS = (
    Brand(
        "HW",
        "华为",
        "6901443",
        (
            (PHONE, "Mate", "M", "旗舰手机"),
            (PHONE, "nova", "N", "中端手机"),
            (PHONE, "畅享", "E", "入门手机"),
            (TABLET, "MatePad", "MP", "平板电脑"),
            (WEARABLE, "WATCH", "W", "智能手表"),
            (WEARABLE, "FreeBuds", "FB", "耳机"),
            (ACCESSORY, "超级快充", "CH", "充电器"),
        ),
    ),
    Brand(
        "HN",
        "荣耀",
        "6936520",
        (
            (PHONE, "Magic", "MG", "旗舰手机"),
            (PHONE, "数字系列", "H", "中端手机"),
            (PHONE, "X系列", "X", "入门手机"),
            (TABLET, "平板", "PD", "平板电脑"),
            (WEARABLE, "手环", "B", "手环"),
        ),
    ),
    Brand(
        "XM",
        "小米",
        "6934177",
        (
            (PHONE, "小米数字", "MI", "旗舰手机"),
            (PHONE, "Redmi", "RN", "入门手机"),
            (TABLET, "小米平板", "PAD", "平板电脑"),
            (WEARABLE, "手环", "BD", "手环"),
            (ACCESSORY, "移动电源", "PB", "移动电源"),
        ),
    ),
    Brand(
        "OP",
        "OPPO",
        "6932169",
        (
            (PHONE, "Find", "FX", "旗舰手机"),
            (PHONE, "Reno", "R", "中端手机"),
            (WEARABLE, "Enco", "EC", "耳机"),
        ),
    ),
    Brand(
        "VV",
        "vivo",
        "6935117",
        (
            (PHONE, "X系列", "VX", "旗舰手机"),
            (PHONE, "S系列", "VS", "中端手机"),
            (PHONE, "Y系列", "VY", "入门手机"),
            (TABLET, "Pad", "VP", "平板电脑"),
        ),
    ),
    Brand(
        "AP",
        "Apple",
        "019",
        (
            (PHONE, "iPhone", "IP", "旗舰手机"),
            (TABLET, "iPad", "IPD", "平板电脑"),
            (WEARABLE, "Watch", "AW", "智能手表"),
            (WEARABLE, "AirPods", "AP", "耳机"),
            (ACCESSORY, "电源适配器", "PA", "充电器"),
        ),
    ),
    Brand(
        "SS",
        "三星",
        "880",
        (
            (PHONE, "Galaxy S", "GS", "旗舰手机"),
            (PHONE, "Galaxy A", "GA", "中端手机"),
            (TABLET, "Galaxy Tab", "GT", "平板电脑"),
        ),
    ),
    Brand(
        "AK",
        "Anker",
        "0848061",
        (
            (ACCESSORY, "氮化镓充电器", "GAN", "充电器"),
            (ACCESSORY, "数据线", "CB", "数据线"),
            (ACCESSORY, "充电宝", "PC", "移动电源"),
        ),
    ),
    Brand(
        "BE",
        "Belkin",
        "0745883",
        ((ACCESSORY, "贴膜", "SP", "贴膜"), (ACCESSORY, "数据线", "BC", "数据线")),
    ),
    Brand(
        "BS",
        "倍思",
        "6953156",
        (
            (ACCESSORY, "数据线", "BSC", "数据线"),
            (ACCESSORY, "保护壳", "BSK", "保护壳"),
            (ACCESSORY, "车载支架", "BSM", "支架"),
        ),
    ),
    Brand(
        "LV",
        "绿联",
        "6957303",
        (
            (ACCESSORY, "充电器", "UC", "充电器"),
            (ACCESSORY, "保护壳", "UK", "保护壳"),
            (ACCESSORY, "贴膜", "UF", "贴膜"),
        ),
    ),
)

COLORS = (
    ("BLK", "黑色"),
    ("WHT", "白色"),
    ("BLU", "蓝色"),
    ("GRN", "绿色"),
    ("GLD", "金色"),
    ("PRP", "紫色"),
    ("SLV", "银色"),
    ("PNK", "粉色"),
    ("GRY", "灰色"),
)
# Old colour codes: a WMS that was never updated still carries item numbers built with these.
OLD_COLOR = {
    "BLK": "BK",
    "WHT": "WH",
    "BLU": "BL",
    "GRN": "GN",
    "GLD": "GD",
    "PRP": "PP",
    "SLV": "SV",
    "PNK": "PK",
    "GRY": "GY",
}
STORAGE = ("128", "256", "512", "1T")
WEARABLE_EDITIONS = ("42MM", "46MM", "STD", "PRO")
ACCESSORY_SPECS = ("STD", "20W", "33W", "66W", "1M", "2M")

# Price bands in yuan by category: (low, high).
PRICE_BANDS = {
    PHONE: (999, 8999),
    TABLET: (1299, 6999),
    WEARABLE: (199, 3299),
    ACCESSORY: (19, 499),
}
CATEGORY_ITEM_SHARE = np.array([0.34, 0.10, 0.16, 0.40])
UOM = {PHONE: "台", TABLET: "台", WEARABLE: "个", ACCESSORY: "个"}

NEW_ITEM_SHARE = 0.12
NEW_ITEM_HORIZON_DAYS = 150


def ean13_check(digits12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits12))
    return str((10 - total % 10) % 10)


def ean13(prefix: str, reference: int) -> str:
    body = f"{prefix}{reference:0{12 - len(prefix)}d}"
    return body + ean13_check(body)


@dataclass
class Listing:
    platform: str
    platform_sku: str
    item: int
    barcode: str | None
    seller_sku: str
    title: str
    listed_t: int
    """When the listing went up (window seconds)."""


@dataclass
class Catalog:
    item_no: list[str]
    item_name: list[str]
    brand: list[str]
    series: list[str]
    model: list[str]
    category: np.ndarray
    category_l2: list[str]
    barcode: list[str]
    uom: list[str]
    unit_cost: np.ndarray
    """Fen."""
    base_price: np.ndarray
    """STORE list price in fen at the start of the window."""
    launch_day: np.ndarray
    erp_created_t: np.ndarray
    """When the ERP master learns the item; after launch for a few new items."""
    discontinued_before: np.ndarray
    """True when the item was already DISCONTINUED before the window."""
    popularity: np.ndarray
    wms_sku: list[str]
    wms_item_no: list[str]
    """What the WMS item master holds in `item_no`: often empty or stale."""
    wms_description: list[str]
    wms_created_t: np.ndarray
    wms_fix_t: np.ndarray
    """When the WMS fixed a stale/empty item_no in the window (-1: never)."""
    listings: dict[str, list[Listing]] = field(default_factory=dict)
    item_listings: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    """platform -> item index -> indices into listings[platform]."""

    @property
    def size(self) -> int:
        return len(self.item_no)

    def sellable(self, day: int) -> np.ndarray:
        return self.launch_day <= day


def _model_code(rng: np.random.Generator, letter: str, used: set[str]) -> tuple[str, str]:
    for attempt in range(1_000_000):
        # Short model numbers first; large catalogues spill into longer ones.
        high = 100 if attempt < 8 else 1000 if attempt < 16 else 100_000
        number = int(rng.integers(1, high))
        suffix = ("", "", "P", "S", "X", "L", "E")[rng.integers(7)]
        code = f"{letter}{number}{suffix}"
        if code not in used:
            used.add(code)
            display = {"P": " Pro", "S": " SE", "X": " Max", "L": " Lite", "E": " 青春版"}.get(
                suffix, ""
            )
            return code, f"{number}{display}"
    raise RuntimeError(f"no free model code for {letter}")


def build_catalog(seed: int, n_items: int) -> Catalog:
    rng = stream(seed, "catalog")
    rows: list[tuple] = []
    used_models: dict[str, set[str]] = {b.code: set() for b in BRANDS}
    brand_weights = np.array([3, 2, 2, 1.5, 1.5, 2, 1, 1.2, 0.6, 1.2, 1.0])
    brand_weights = brand_weights / brand_weights.sum()
    category_target = np.round(CATEGORY_ITEM_SHARE * n_items).astype(int)
    made = np.zeros(4, dtype=int)
    while len(rows) < n_items:
        cat = int(np.argmax(category_target - made))
        candidates = [(b, s) for b in BRANDS for s in b.series if s[0] == cat]
        weights = np.array([brand_weights[BRANDS.index(b)] for b, _ in candidates])
        brand, (category, series_name, letter, cat2) = candidates[
            rng.choice(len(candidates), p=weights / weights.sum())
        ]
        model, model_display = _model_code(rng, letter, used_models[brand.code])
        low, high = PRICE_BANDS[category]
        base = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        if category in (PHONE, TABLET):
            variants = sorted(rng.choice(len(STORAGE), size=int(rng.integers(1, 4)), replace=False))
            variant_codes = [(STORAGE[v], 1 + 0.18 * v) for v in variants]
        elif category == WEARABLE:
            variants = sorted(
                rng.choice(len(WEARABLE_EDITIONS), size=int(rng.integers(1, 3)), replace=False)
            )
            variant_codes = [(WEARABLE_EDITIONS[v], 1 + 0.12 * v) for v in variants]
        else:
            variant_codes = [(ACCESSORY_SPECS[rng.integers(len(ACCESSORY_SPECS))], 1.0)]
        n_colors = int(rng.integers(1, 4 if category != ACCESSORY else 3))
        colors = [COLORS[c] for c in sorted(rng.choice(len(COLORS), size=n_colors, replace=False))]
        model_pop = float(rng.pareto(1.2) + 0.2)
        for code, factor in variant_codes:
            for color_code, color_name in colors:
                if len(rows) >= n_items:
                    break
                price_yuan = price_point(base * factor)
                storage_label = (
                    {"1T": "1TB"}.get(code, f"{code}GB") if category in (PHONE, TABLET) else code
                )
                words = (brand.name, series_name, model_display, storage_label, color_name)
                name = " ".join(w for w in words if w)
                rows.append(
                    (
                        f"{brand.code}-{model}-{code}-{color_code}",
                        name,
                        brand,
                        series_name,
                        model,
                        category,
                        cat2,
                        price_yuan,
                        model_pop * float(rng.uniform(0.5, 1.5)),
                        color_code,
                    )
                )
                made[category] += 1
    n = len(rows)
    launch_day = np.where(
        rng.random(n) < NEW_ITEM_SHARE,
        rng.integers(0, NEW_ITEM_HORIZON_DAYS, size=n),
        -rng.integers(30, 1000, size=n),
    ).astype(np.int32)
    # Two early launches so short estates hold a new item, one of them sold before the ERP knows it.
    early = rng.choice(n, size=2, replace=False)
    launch_day[early] = (1, 2)
    erp_lag_days = np.where(
        rng.random(n) < 0.85, -rng.integers(3, 20, size=n), rng.integers(1, 6, size=n)
    )
    erp_lag_days[early] = (-5, 4)
    new = launch_day >= 0
    erp_day = np.where(new, launch_day + erp_lag_days, launch_day - rng.integers(5, 30, size=n))
    erp_created_t = erp_day.astype(np.int64) * DAY + rng.integers(9 * 3600, 18 * 3600, size=n)
    wms_created_t = (np.minimum(launch_day, erp_day) - rng.integers(2, 6, size=n)).astype(
        np.int64
    ) * DAY
    wms_created_t += rng.integers(8 * 3600, 17 * 3600, size=n)
    popularity = np.array([r[8] for r in rows]) * np.where(new, 2.5, 1.0)
    discontinued_before = (~new) & (launch_day < -500) & (rng.random(n) < 0.35)
    popularity = np.where(discontinued_before, popularity * 0.15, popularity)
    base_price = np.array([r[7] for r in rows], dtype=np.int64) * 100
    unit_cost = (base_price * rng.uniform(0.62, 0.86, size=n)).astype(np.int64)
    barcodes = _barcodes(rng, [r[2] for r in rows])

    order = np.argsort(wms_created_t, kind="stable")
    wms_sku = [""] * n
    for rank, i in enumerate(order):
        wms_sku[i] = f"W-{rank + 1:06d}"
    item_no = [r[0] for r in rows]
    wms_item_no, wms_fix_t = _wms_item_numbers(rng, item_no, [r[9] for r in rows])
    catalog = Catalog(
        item_no=item_no,
        item_name=[r[1] for r in rows],
        brand=[r[2].name for r in rows],
        series=[r[3] for r in rows],
        model=[r[4] for r in rows],
        category=np.array([r[5] for r in rows], dtype=np.int8),
        category_l2=[r[6] for r in rows],
        barcode=barcodes,
        uom=[UOM[r[5]] for r in rows],
        unit_cost=unit_cost,
        base_price=base_price,
        launch_day=launch_day,
        erp_created_t=erp_created_t,
        discontinued_before=discontinued_before,
        popularity=popularity,
        wms_sku=wms_sku,
        wms_item_no=wms_item_no,
        wms_description=[_wms_description(r[1]) for r in rows],
        wms_created_t=wms_created_t,
        wms_fix_t=wms_fix_t,
    )
    _build_listings(rng, catalog)
    return catalog


def price_point(yuan: float) -> int:
    """Retail price points: 1999, 2499, 299, 59 ..."""
    if yuan >= 1000:
        return int(round(yuan / 500) * 500 - 1)
    if yuan >= 100:
        return int(round(yuan / 50) * 50 - 1)
    return int(round(yuan / 10) * 10 - 1)


def _barcodes(rng: np.random.Generator, brands: list[Brand]) -> list[str]:
    """Sequential item references with gaps under each brand's company prefix.

    A brand that runs out of references moves on to its next company prefix.
    """
    state: dict[str, tuple[int, int]] = {}
    out = []
    for brand in brands:
        width = 12 - len(brand.barcode_prefix)
        block, ref = state.get(
            brand.code, (0, int(rng.integers(10 ** (width - 2), 10 ** (width - 1))))
        )
        ref += int(rng.integers(1, 40))
        if ref >= 10**width:
            block, ref = block + 1, int(rng.integers(1, 1000))
        state[brand.code] = (block, ref)
        prefix = str(int(brand.barcode_prefix) + block).zfill(len(brand.barcode_prefix))
        out.append(ean13(prefix, ref))
    return out


def _wms_description(item_name: str) -> str:
    return item_name.replace(" ", "").replace("GB", "G")


def _wms_item_numbers(
    rng: np.random.Generator, item_no: list[str], colors: list[str]
) -> tuple[list[str], np.ndarray]:
    """WMS item numbers: right, empty, an old code, or (rarely) a sibling's number."""
    n = len(item_no)
    roll = rng.random(n)
    out: list[str] = []
    for i in range(n):
        if roll[i] < 0.58:
            out.append(item_no[i])
        elif roll[i] < 0.83:
            out.append("")
        elif roll[i] < 0.97:
            brand, model, variant, color = item_no[i].split("-")
            old = (
                f"{brand}{model}{variant}{OLD_COLOR.get(color, color)}"
                if rng.random() < 0.5
                else (f"{brand}-{model}-{variant}-{OLD_COLOR.get(color, color)}")
            )
            out.append(old)
        else:
            sibling = (
                item_no[i - 1]
                if i > 0 and item_no[i - 1].split("-")[1] == item_no[i].split("-")[1]
                else ""
            )
            out.append(sibling)
    # A few wrong or empty numbers get fixed in the window (re-sent with a new updated_at).
    fix_t = np.where(
        (np.array([w != x for w, x in zip(out, item_no, strict=True)])) & (rng.random(n) < 0.1),
        rng.integers(0, 120, size=n) * DAY + rng.integers(9 * 3600, 18 * 3600, size=n),
        -1,
    )
    return out, fix_t


LISTING_SHARE = {"MALL": 0.9, "TMALL": 0.65, "JD": 0.6}
LISTING_NULL_BARCODE = {"MALL": 0.04, "TMALL": 0.22, "JD": 0.15}


def _platform_sku(platform: str, rng: np.random.Generator, used: set[str]) -> str:
    while True:
        if platform == "MALL":
            code = f"ML{rng.integers(10**7, 10**8)}"
        elif platform == "TMALL":
            code = str(rng.integers(6 * 10**11, 7 * 10**11))
        else:
            code = str(rng.integers(10**11, 10**12 + 10**11))
        if code not in used:
            used.add(code)
            return code


def _seller_sku(rng: np.random.Generator, item_no: str, item_name: str) -> str:
    roll = rng.random()
    if roll < 0.84:
        return item_no
    if roll < 0.9:
        return item_no.lower()
    if roll < 0.95:
        return item_no.replace("-", " ")
    return item_name.replace(" ", "")[:14]


def _build_listings(rng: np.random.Generator, catalog: Catalog) -> None:
    for platform in PLATFORMS:
        listings: list[Listing] = []
        by_item: dict[int, list[int]] = {}
        used: set[str] = set()
        listed = rng.random(catalog.size) < LISTING_SHARE[platform]
        for i in np.flatnonzero(listed | (catalog.launch_day >= 0)):
            i = int(i)
            copies = 2 if rng.random() < 0.03 else 1
            for copy in range(copies):
                barcode = (
                    None if rng.random() < LISTING_NULL_BARCODE[platform] else catalog.barcode[i]
                )
                launch_t = int(catalog.launch_day[i]) * DAY
                listed_t = (
                    launch_t - int(rng.integers(1, 3)) * DAY + int(rng.integers(8, 20)) * 3600
                )
                if copy:
                    listed_t = max(listed_t, 0) + int(rng.integers(0, 60)) * DAY
                title = (
                    f"【官方正品】{catalog.item_name[i]}"
                    if platform != "JD"
                    else f"{catalog.item_name[i]} 京东自营"
                )
                by_item.setdefault(i, []).append(len(listings))
                listings.append(
                    Listing(
                        platform=platform,
                        platform_sku=_platform_sku(platform, rng, used),
                        item=i,
                        barcode=barcode,
                        seller_sku=_seller_sku(rng, catalog.item_no[i], catalog.item_name[i]),
                        title=title,
                        listed_t=listed_t,
                    )
                )
        catalog.listings[platform] = listings
        catalog.item_listings[platform] = by_item
