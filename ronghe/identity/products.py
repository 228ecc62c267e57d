"""The SKU crosswalk: every product code a source sends -> one SKU key.

Evidence, strongest first:

1. the barcode (till barcodes with lost leading zeros restored only against
   known barcodes, see `barcodes`);
2. an ERP item number the source carries (WMS `item_no`, a listing's
   `seller_sku`), compared after normalising case, width and separators;
   used only when the code has no usable barcode, because a WMS item_no can
   be stale and a barcode the ERP does not know yet means a new product;
3. for listings only, fuzzy matching (`rapidfuzz`) of a free-text seller_sku
   or the title against item numbers and names, accepted above a configured
   score and lead over the runner-up.

The SKU key of a mapped code is the ERP `item_no`. A code that cannot be
mapped keeps a key derived from itself (its canonical barcode when it has
one, so the till, WMS and listings share it) until the ERP master learns it;
the next run then maps it and logs the change.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import opencc
import pandas as pd
from rapidfuzz import fuzz, process

from ronghe.identity.barcodes import canonical_barcode, restore_barcode
from ronghe.identity.config import ProductRules

_NON_ALNUM = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")
_converter = opencc.OpenCC("t2s")

MARKETPLACES = ("MALL", "TMALL", "JD")
CONFIDENCE = {
    "barcode": 1.0,
    "barcode_zeros_restored": 1.0,
    "item_no": 0.98,
    "item_no_normalised": 0.95,
    "unmapped": 0.0,
}


@dataclass(frozen=True)
class SkuMapping:
    source_system: str
    product_code: str
    sku_key: str
    item_no: str | None
    matched_by: str
    confidence: float
    normalised_code: str | None


class ItemMaster:
    """The ERP items to map onto, indexed by barcode, item number and text."""

    def __init__(self, items: pd.DataFrame, other_barcodes: Iterable[str] = ()) -> None:
        self.by_barcode: dict[str, str] = {}
        self.by_item_no: dict[str, str] = {}
        self.by_compact_no: dict[str, str | None] = {}
        texts: dict[str, str] = {}
        for row in items.sort_values("item_no").itertuples(index=False):
            item_no = str(row.item_no)
            barcode = canonical_barcode(_text(row.barcode))
            if barcode and len(barcode) == 13:
                self.by_barcode.setdefault(barcode, item_no)
            self.by_item_no[item_no.upper()] = item_no
            compact = compact_code(item_no)
            # two items that only differ in separators cannot be told apart this way
            self.by_compact_no[compact] = None if compact in self.by_compact_no else item_no
            texts[item_no] = f"{compact_text(item_no)} {compact_text(_text(row.item_name) or '')}"
        self.item_nos = list(texts)
        self.texts = [texts[item_no] for item_no in self.item_nos]
        self.fuzzy_found: dict[str, tuple[str, float] | None] = {}
        """Fuzzy results by query text: reused while the master is the same (`digest`)."""
        self.known_barcodes = frozenset(self.by_barcode)
        # barcodes other sources know but the ERP does not (yet): enough to
        # restore a till code's zeros so it groups with them while unmapped
        self.seen_barcodes = self.known_barcodes | {
            b for b in (canonical_barcode(v) for v in other_barcodes) if b and len(b) == 13
        }

    @property
    def digest(self) -> str:
        """Identifies the texts fuzzy matching compares with (and the rules it applies)."""
        text = "\n".join(f"{n}\t{t}" for n, t in zip(self.item_nos, self.texts, strict=True))
        return hashlib.md5(text.encode("utf-8")).hexdigest()

    def till_codes(self) -> list[str]:
        """Every code a till can send for a known item: its barcode, and the barcode
        without leading zeros (vendor B). Mapping them up front means a code first
        sold tomorrow already has its SKU key."""
        codes = set(self.by_barcode)
        codes |= {barcode.lstrip("0") for barcode in self.by_barcode if barcode.startswith("0")}
        return sorted(codes)


def map_product_codes(
    codes: pd.DataFrame,
    items: pd.DataFrame,
    rules: ProductRules,
    master: ItemMaster | None = None,
) -> list[SkuMapping]:
    """Map every observed code, and every till code a known item can arrive as.

    `codes` has source_system, product_code, barcode, item_no_hint and title;
    `master` (default: built from `items` and the codes) may carry earlier fuzzy results.
    """
    master = master or item_master(codes, items)
    observed = set(zip(codes["source_system"], codes["product_code"], strict=True))
    expected = [
        ("POS_BARCODE", code, code, None, None)
        for code in master.till_codes()
        if ("POS_BARCODE", code) not in observed
    ]
    columns = ["source_system", "product_code", "barcode", "item_no_hint", "title"]
    every_code = pd.concat([codes[columns], pd.DataFrame(expected, columns=columns)])
    mappings = []
    for row in every_code.sort_values(["source_system", "product_code"]).itertuples(index=False):
        mappings.append(
            map_code(
                str(row.source_system),
                str(row.product_code),
                _text(row.barcode),
                _text(row.item_no_hint),
                _text(row.title),
                master,
                rules,
            )
        )
    return mappings


def item_master(codes: pd.DataFrame, items: pd.DataFrame) -> ItemMaster:
    """The ERP items, with the barcodes the observed codes carry."""
    return ItemMaster(items, codes["barcode"].dropna().astype(str))


def map_code(
    source_system: str,
    product_code: str,
    barcode: str | None,
    item_no_hint: str | None,
    title: str | None,
    master: ItemMaster,
    rules: ProductRules,
) -> SkuMapping:
    """The mapping of one code; see the module docstring for the order of evidence."""

    def mapped(item_no: str, how: str, confidence: float | None = None, code: str | None = None):
        score = CONFIDENCE[how] if confidence is None else confidence
        return SkuMapping(source_system, product_code, item_no, item_no, how, score, code)

    if source_system == "POS_BARCODE":
        barcode = product_code
    restored = restore_barcode(barcode, master.known_barcodes)
    if restored is not None:
        code, how = restored
        name = "barcode" if how == "exact" else "barcode_zeros_restored"
        return mapped(master.by_barcode[code], name, code=code)
    canonical = _canonical(barcode, master)
    if canonical is None and item_no_hint:
        exact = master.by_item_no.get(item_no_hint.strip().upper())
        if exact is not None:
            return mapped(exact, "item_no")
        compact = master.by_compact_no.get(compact_code(item_no_hint))
        if compact is not None:
            return mapped(compact, "item_no_normalised")
    if canonical is None and source_system in MARKETPLACES and (item_no_hint or title):
        fuzzy = _fuzzy(item_no_hint, title, master, rules)
        if fuzzy is not None:
            return mapped(fuzzy[0], "fuzzy", confidence=fuzzy[1])
    key = f"EAN-{canonical}" if canonical else f"{source_system}-{product_code}"
    return SkuMapping(source_system, product_code, key, None, "unmapped", 0.0, canonical)


def _canonical(barcode: str | None, master: ItemMaster) -> str | None:
    """The code's 13-digit barcode when it has a usable one, else None."""
    if barcode is None:
        return None
    restored = restore_barcode(barcode, master.seen_barcodes)
    if restored is not None:
        return restored[0]
    canonical = canonical_barcode(barcode)
    return canonical if canonical and len(canonical) == 13 else None


def _fuzzy(
    seller_sku: str | None, title: str | None, master: ItemMaster, rules: ProductRules
) -> tuple[str, float] | None:
    if not master.texts:
        return None
    query = compact_text(" ".join(filter(None, (seller_sku, title))))
    if query not in master.fuzzy_found:
        master.fuzzy_found[query] = _best_item(query, master, rules)
    return master.fuzzy_found[query]


def _best_item(query: str, master: ItemMaster, rules: ProductRules) -> tuple[str, float] | None:
    best = process.extract(query, master.texts, scorer=fuzz.token_set_ratio, limit=2)
    if not best:
        return None
    _, top_score, top_index = best[0]
    runner_up = best[1][1] if len(best) > 1 else 0.0
    if top_score < rules.listing_fuzzy_min_score:
        return None
    if top_score - runner_up < rules.listing_fuzzy_min_margin:
        return None
    return master.item_nos[top_index], round(top_score / 100.0, 4)


def compact_code(value: str) -> str:
    """An item number without case, width or separators: `hw m60p_512 blk` -> `HWM60P512BLK`."""
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", value).lower()).upper()


def compact_text(value: str) -> str:
    """Free text for fuzzy comparison: NFKC, simplified script, lower case, single spaces."""
    text = _converter.convert(unicodedata.normalize("NFKC", value)).lower()
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None
