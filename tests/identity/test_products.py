"""The SKU crosswalk: barcodes with lost zeros, stale WMS item numbers, free-text seller SKUs."""

from __future__ import annotations

import pandas as pd
import pytest

from ronghe.identity.barcodes import ean13_check_digit, ean13_valid, restore_barcode
from ronghe.identity.config import ProductRules
from ronghe.identity.products import item_master, map_product_codes

RULES = ProductRules(listing_fuzzy_min_score=92, listing_fuzzy_min_margin=5)


def ean(first12: str) -> str:
    return first12 + str(ean13_check_digit(first12))


ZERO_LED = ean("069012345678")
PLAIN = ean("690987654321")
UNKNOWN_ZERO_LED = ean("069055555555")

ITEMS = pd.DataFrame(
    [
        ("HW-M60P-512-BLK", "华为 Mate60 Pro 512GB 雅丹黑", ZERO_LED),
        ("HW-M60P-256-WHT", "华为 Mate60 Pro 256GB 白沙银", PLAIN),
        ("XM-BAND8-BLK", "小米手环8 黑色", ean("690111111111")),
    ],
    columns=["item_no", "item_name", "barcode"],
)


def codes(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["source_system", "product_code", "barcode", "item_no_hint", "title"]
    )


def mapped(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (m.source_system, m.product_code): (m.sku_key, m.matched_by)
        for m in map_product_codes(frame, ITEMS, RULES)
    }


def test_check_digits() -> None:
    assert ean13_valid("4006381333931")
    assert not ean13_valid("4006381333932")
    assert not ean13_valid("400638133393")


def test_a_till_barcode_that_lost_its_leading_zero_is_restored_against_known_barcodes() -> None:
    result = mapped(
        codes(
            ("POS_BARCODE", ZERO_LED[1:], None, None, None),
            ("POS_BARCODE", ZERO_LED, None, None, None),
        )
    )
    assert result[("POS_BARCODE", ZERO_LED[1:])] == ("HW-M60P-512-BLK", "barcode_zeros_restored")
    assert result[("POS_BARCODE", ZERO_LED)] == ("HW-M60P-512-BLK", "barcode")


def test_padding_alone_never_maps_a_code() -> None:
    known = {ZERO_LED}
    assert restore_barcode(ZERO_LED[1:], known) == (ZERO_LED, "zeros_restored")
    broken = ZERO_LED[1:-1] + str((int(ZERO_LED[-1]) + 1) % 10)
    assert restore_barcode(broken, known | {broken.zfill(13)}) is None
    assert restore_barcode(UNKNOWN_ZERO_LED[1:], known) is None


def test_an_unknown_product_stays_visible_under_one_key_for_till_and_wms() -> None:
    result = mapped(
        codes(
            ("POS_BARCODE", UNKNOWN_ZERO_LED[1:], None, None, None),
            ("WMS", "W-000999", UNKNOWN_ZERO_LED, "HW-M60P-512-BLK", "新品"),
        )
    )
    till = result[("POS_BARCODE", UNKNOWN_ZERO_LED[1:])]
    wms = result[("WMS", "W-000999")]
    assert till == wms == (f"EAN-{UNKNOWN_ZERO_LED}", "unmapped")


def test_an_unknown_code_maps_by_itself_once_the_erp_knows_it() -> None:
    frame = codes(("POS_BARCODE", UNKNOWN_ZERO_LED[1:], None, None, None))
    assert mapped(frame)[("POS_BARCODE", UNKNOWN_ZERO_LED[1:])][1] == "unmapped"
    grown = pd.concat(
        [ITEMS, pd.DataFrame([("HW-NEW-1", "华为 新品", UNKNOWN_ZERO_LED)], columns=ITEMS.columns)]
    )
    result = {m.product_code: m for m in map_product_codes(frame, grown, RULES)}
    assert result[UNKNOWN_ZERO_LED[1:]].sku_key == "HW-NEW-1"


def test_a_wms_barcode_outranks_its_stale_item_no() -> None:
    result = mapped(codes(("WMS", "W-1", PLAIN, "HW-M60P-512-BLK", None)))
    assert result[("WMS", "W-1")] == ("HW-M60P-256-WHT", "barcode")


def test_a_wms_sku_without_barcode_maps_by_its_item_no() -> None:
    result = mapped(codes(("WMS", "W-2", None, "hw-m60p-512-blk", None)))
    assert result[("WMS", "W-2")] == ("HW-M60P-512-BLK", "item_no")


@pytest.mark.parametrize(
    "seller_sku", ["HW M60P 512 BLK", "hw_m60p_512_blk", "ＨＷ－Ｍ60Ｐ－512－ＢＬＫ"]
)
def test_a_seller_sku_written_differently_maps_by_its_normalised_form(seller_sku: str) -> None:
    result = mapped(codes(("TMALL", "TM-1", None, seller_sku, "some title")))
    assert result[("TMALL", "TM-1")] == ("HW-M60P-512-BLK", "item_no_normalised")


def test_a_free_text_listing_maps_fuzzily_only_when_clearly_one_item() -> None:
    result = mapped(
        codes(
            ("JD", "JD-1", None, "小米手环8 黑色", None),
            ("JD", "JD-2", None, "华为 Mate60 Pro", None),
        )
    )
    assert result[("JD", "JD-1")] == ("XM-BAND8-BLK", "fuzzy")
    assert result[("JD", "JD-2")][1] == "unmapped"


def test_the_codes_a_till_can_send_for_a_known_item_are_mapped_before_it_sells() -> None:
    result = mapped(codes(("WMS", "W-1", PLAIN, None, None)))
    assert result[("POS_BARCODE", ZERO_LED)] == ("HW-M60P-512-BLK", "barcode")
    assert result[("POS_BARCODE", ZERO_LED.lstrip("0"))] == (
        "HW-M60P-512-BLK",
        "barcode_zeros_restored",
    )
    assert ("POS_BARCODE", PLAIN[1:]) not in result


def test_fuzzy_results_are_reused_only_against_the_same_item_master() -> None:
    listing = codes(("JD", "JD-1", None, "小米手环8 黑色", None))
    master = item_master(listing, ITEMS)
    (first,) = [
        m for m in map_product_codes(listing, ITEMS, RULES, master) if m.source_system == "JD"
    ]
    assert (first.sku_key, first.matched_by) == ("XM-BAND8-BLK", "fuzzy")
    # a second run handed the first run's results does not score the listing again
    again = item_master(listing, ITEMS)
    again.fuzzy_found.update({query: ("HW-P70", 0.99) for query in master.fuzzy_found})
    (second,) = [
        m for m in map_product_codes(listing, ITEMS, RULES, again) if m.source_system == "JD"
    ]
    assert second.sku_key == "HW-P70"
    grown = pd.concat([ITEMS, pd.DataFrame([("HW-P70", "华为 P70", ean("690222222222"))],
                                           columns=ITEMS.columns)])  # fmt: skip
    assert item_master(listing, grown).digest != master.digest == again.digest
