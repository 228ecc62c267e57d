"""Every defect in defects.csv is really there, and the same rules find nothing else."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from tests.generate.sources import drops, erp, final_drops, jsonl, to_fen, truth
from tests.generate.test_wms import _snapshots, balance_breaks

KINDS = {
    "malformed_row",
    "duplicate_line",
    "resent_drop_identical",
    "resent_drop_corrected",
    "incomplete_drop",
    "wms_redelivered_batch",
    "wms_late_movement",
    "stock_discrepancy",
    "negative_stock",
    "night_order_burst",
    "sales_spike",
    "price_parity_break",
    "reused_coupon",
    "channel_stuffing",
    "return_without_sale",
    "bopis_unknown_order",
    "unknown_barcode",
}


@pytest.fixture(scope="module")
def defects(small_estate):
    return truth(small_estate, "defects.csv")


def _by_kind(defects, kind):
    return [d for d in defects if d["kind"] == kind]


def test_every_kind_is_injected_and_ids_are_unique(defects):
    assert {d["kind"] for d in defects} == KINDS
    assert len({d["defect_id"] for d in defects}) == len(defects)


def _file_rows(root, location):
    raw = (root / location).read_bytes()
    text = (
        raw.decode("utf-8-sig")
        if raw[:3] == b"\xef\xbb\xbf" or raw[:3] == b"txn"
        else raw.decode("gbk")
    )
    return text.splitlines()


def test_malformed_rows_have_a_wrong_field_count(small_estate, defects):
    for d in _by_kind(defects, "malformed_row"):
        lines = _file_rows(small_estate, d["location"])
        n = int(d["record_key"].removeprefix("line:"))
        width = len(next(csv.reader([lines[0]])))
        assert len(next(csv.reader([lines[n - 1]]))) != width, d


def test_no_other_malformed_rows_in_complete_drops(small_estate, defects):
    listed = {(d["location"], d["record_key"]) for d in _by_kind(defects, "malformed_row")}
    for drop in drops(small_estate):
        if not drop.complete:
            continue
        for name in ("transactions.csv", "lines.csv"):
            lines = drop.text(name).splitlines()
            width = len(lines[0].split(","))
            for n, line in enumerate(lines[1:], start=2):
                row = next(csv.reader([line]))
                if row[0] == "合计":
                    continue
                if len(row) != width:
                    location = str((drop.path / name).relative_to(small_estate))
                    assert (location, f"line:{n}") in listed or drop.delivery > 1


def test_duplicate_lines_repeat_their_record(small_estate, defects):
    for d in _by_kind(defects, "duplicate_line"):
        rows = [
            tuple(r)
            for r in csv.reader(io.StringIO("\n".join(_file_rows(small_estate, d["location"])[1:])))
        ]
        _, *key = d["record_key"].split("/")
        matching = [r for r in rows if list(r[: len(key)]) == key if len(r) > len(key)]
        assert any(rows.count(r) >= 2 for r in matching), d


def test_resent_drops(small_estate, defects):
    for d in _by_kind(defects, "resent_drop_identical") + _by_kind(
        defects, "resent_drop_corrected"
    ):
        resend = small_estate / d["location"]
        first = small_estate / d["location"].rsplit("_", 1)[0]
        assert (resend / "_SUCCESS").exists() and (first / "_SUCCESS").exists()
        same = all(
            (first / n).read_bytes() == (resend / n).read_bytes()
            for n in ("transactions.csv", "lines.csv")
        )
        assert same == (d["kind"] == "resent_drop_identical"), d
        if d["kind"] == "resent_drop_corrected":
            assert len(_file_rows(small_estate, f"{d['location']}/transactions.csv")) > len(
                _file_rows(small_estate, f"{d['location'].rsplit('_', 1)[0]}/transactions.csv")
            )


def test_incomplete_drops_never_get_success(small_estate, defects):
    found = _by_kind(defects, "incomplete_drop")
    for d in found:
        assert not (small_estate / d["location"] / "_SUCCESS").exists()
        assert (small_estate / d["location"]).is_dir()


def test_wms_redeliveries_and_late_movements(small_estate, defects):
    for d in _by_kind(defects, "wms_redelivered_batch"):
        again = {m["movement_id"] for m in jsonl(small_estate / d["location"])}
        first = {
            m["movement_id"]
            for m in jsonl(small_estate / d["location"].replace("_2.jsonl", ".jsonl"))
        }
        assert first <= again and d["record_key"] in d["location"]
    for d in _by_kind(defects, "wms_late_movement"):
        path = small_estate / d["location"]
        moved = [m for m in jsonl(path) if m["movement_id"] == d["record_key"]]
        assert len(moved) == 1, d
        hour = moved[0]["moved_at"][:13].replace("-", "").replace("T", "")
        if path.stem.endswith("_2"):
            original = path.with_name(path.stem[:-2] + ".jsonl")
            assert d["record_key"] not in {m["movement_id"] for m in jsonl(original)}
        else:
            assert hour < path.stem


def test_stock_defects(small_estate, defects):
    breaks = balance_breaks(small_estate)
    for d in _by_kind(defects, "stock_discrepancy"):
        assert d["record_key"] in breaks
    snaps = _snapshots(small_estate)
    for d in _by_kind(defects, "negative_stock"):
        wh, sku, date = d["record_key"].split("/")
        assert snaps[date.replace("-", "")][(wh, sku)]["on_hand"] < 0


def _local(utc: str) -> datetime:
    return datetime.strptime(utc, "%Y-%m-%dT%H:%M:%SZ") + timedelta(hours=8)


def test_night_order_bursts_and_no_other_night_bursts(small_estate, defects):
    night = defaultdict(set)
    daily = defaultdict(set)
    for platform in ("MALL", "TMALL", "JD"):
        for o in jsonl(small_estate / "ecommerce" / platform / "orders.jsonl"):
            t = _local(o["created_at"])
            daily[f"{platform}/{t.date()}"].add(o["order_id"])
            if 2 <= t.hour < 5:
                night[f"{platform}/{t.date()}"].add(o["order_id"])
    bursts = {k for k, v in night.items() if len(v) >= 20 and len(v) >= 0.2 * len(daily[k])}
    assert bursts == {d["record_key"] for d in _by_kind(defects, "night_order_burst")}
    quiet = [len(v) / len(daily[k]) for k, v in night.items() if k not in bursts]
    assert max(quiet, default=0) < 0.1


def _store_day_sales(root):
    """Amount and count of store sales (SALE, not pick-ups) per store-day, final deliveries."""
    out = {}
    for drop in final_drops(root):
        txns = [
            t
            for t in drop.records("transactions.csv")
            if t["txn_type"] == "SALE" and t["payment_method"] != "PREPAID_ONLINE"
        ]
        if drop.rows("transactions.csv") or txns:
            out[(drop.store, drop.day)] = (sum(to_fen(t["total_amount"]) for t in txns), len(txns))
    return out


def test_sales_spikes_and_no_other_store_day_above_300_percent(small_estate, defects):
    sales = _store_day_sales(small_estate)
    history = defaultdict(list)
    flagged = set()
    for (store, day), (amount, count) in sorted(sales.items()):
        past = history[store][-28:]
        if len(past) >= 7 and amount > 3 * sum(a for a, _ in past) / len(past):
            flagged.add(f"{store}/{day[:4]}-{day[4:6]}-{day[6:]}")
        if count:
            history[store].append((amount, count))
    listed = {d["record_key"] for d in _by_kind(defects, "sales_spike")}
    assert listed and flagged == listed


def test_price_parity_breaks(small_estate, defects):
    db = erp(small_estate)
    for d in _by_kind(defects, "price_parity_break"):
        item, channel, valid_from = d["record_key"].split("/")
        price = db.execute(
            "SELECT list_price FROM erp_price WHERE item_no=? AND channel=? AND valid_from=?",
            (item, channel, valid_from),
        ).fetchone()[0]
        store = db.execute(
            "SELECT list_price FROM erp_price WHERE item_no=? AND channel='STORE' "
            "AND valid_from<=? "
            "AND (valid_to IS NULL OR valid_to>=?)",
            (item, valid_from, valid_from),
        ).fetchone()[0]
        assert abs(price / store - 1) > 0.2, d


def _coupon_uses(root):
    uses = defaultdict(set)
    for platform in ("MALL", "TMALL", "JD"):
        for o in jsonl(root / "ecommerce" / platform / "orders.jsonl"):
            for code in o["coupons"]:
                uses[code].add(f"{platform}/{o['order_id']}")
    for drop in final_drops(root):
        for line in drop.records("lines.csv"):
            if line["coupon_code"]:
                uses[line["coupon_code"]].add(f"{drop.store}/{line['txn_id']}")
    return uses


def test_reused_coupons_are_the_only_coupons_used_twice(small_estate, defects):
    twice = {code for code, uses in _coupon_uses(small_estate).items() if len(uses) > 1}
    assert twice == {d["record_key"] for d in _by_kind(defects, "reused_coupon")}


def test_channel_stuffing_is_the_only_sell_in_far_above_sell_out(small_estate, defects):
    db = erp(small_estate)
    dealer_of = {
        r[0]: r[1] for r in db.execute("SELECT store_code, dealer_code FROM erp_store") if r[1]
    }
    item_of = {r[0]: r[1] for r in db.execute("SELECT barcode, item_no FROM erp_item")}
    item_of.update({b.lstrip("0"): i for b, i in list(item_of.items())})
    sell_out = defaultdict(int)
    for drop in final_drops(small_estate):
        if drop.store in dealer_of:
            for line in drop.records("lines.csv"):
                if line["barcode"] in item_of:
                    sell_out[(dealer_of[drop.store], item_of[line["barcode"]])] += int(line["qty"])
    sell_in = defaultdict(int)
    for dealer, item, qty in db.execute("SELECT dealer_code, item_no, qty FROM erp_sell_in"):
        sell_in[(dealer, item)] += qty
    flagged = {
        f"{d}/{i}" for (d, i), q in sell_in.items() if q > 2 * max(sell_out[(d, i)], 0) and q >= 20
    }
    assert flagged == {d["record_key"] for d in _by_kind(defects, "channel_stuffing")}


def test_returns_without_sale_and_unknown_pickup_orders(small_estate, defects):
    txns = [(d, t) for d in final_drops(small_estate) for t in d.records("transactions.csv")]
    issued = {t["txn_id"] for _, t in txns}
    orphans = {
        f"{d.store}/{t['txn_id']}"
        for d, t in txns
        if t["txn_type"] == "RETURN" and t["orig_txn_id"] not in issued
    }
    assert orphans == {d["record_key"] for d in _by_kind(defects, "return_without_sale")}
    orders = {
        o["order_id"]
        for p in ("MALL", "TMALL", "JD")
        for o in jsonl(small_estate / "ecommerce" / p / "orders.jsonl")
    }
    unknown = {
        f"{d.store}/{t['txn_id']}"
        for d, t in txns
        if t["ecom_order_id"] and t["ecom_order_id"] not in orders
    }
    assert unknown == {d["record_key"] for d in _by_kind(defects, "bopis_unknown_order")}


def test_unknown_barcodes_are_the_only_barcodes_matching_no_item(small_estate, defects):
    known = {
        r["product_code"]
        for r in truth(small_estate, "products.csv")
        if r["source_system"] == "POS_BARCODE"
    }
    unknown = {
        f"{d.store}/{line['txn_id']}/{line['line_no']}"
        for d in final_drops(small_estate)
        for line in d.records("lines.csv")
        if line["barcode"] not in known
    }
    assert unknown == {d["record_key"] for d in _by_kind(defects, "unknown_barcode")}
