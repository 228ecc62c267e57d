"""WMS files: stock balances hold except at injected discrepancies; hourly and daily files."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict

from tests.generate.sources import erp, jsonl, truth

MOVEMENT_TYPES = {
    "RECEIPT",
    "PICK",
    "SHIP",
    "TRANSFER_OUT",
    "TRANSFER_IN",
    "ADJUST",
    "RETURN",
    "SALE",
}


def _snapshots(root):
    out = {}
    for path in sorted((root / "wms" / "snapshots").glob("*.jsonl")):
        out[path.stem] = {(r["warehouse_code"], r["wms_sku"]): r for r in jsonl(path)}
    return out


def _movements(root):
    unique = {}
    for path in sorted((root / "wms" / "movements").glob("*.jsonl")):
        for r in jsonl(path):
            if r["movement_id"] in unique:
                assert unique[r["movement_id"]] == r, "a re-delivered movement changed"
            unique[r["movement_id"]] = r
    return unique


def balance_breaks(root) -> set[str]:
    """`<warehouse>/<sku>/<date>` where previous on_hand + movements != on_hand."""
    snaps = _snapshots(root)
    net = defaultdict(int)
    for m in _movements(root).values():
        net[(m["moved_at"][:10].replace("-", ""), m["warehouse_code"], m["wms_sku"])] += m["qty"]
    breaks = set()
    days = sorted(snaps)
    for prev, cur in itertools.pairwise(days):
        for key, row in snaps[cur].items():
            before = snaps[prev][key]["on_hand"] if key in snaps[prev] else 0
            if before + net.get((cur, *key), 0) != row["on_hand"]:
                breaks.add(f"{key[0]}/{key[1]}/{row['snapshot_date']}")
        for (day, wh, sku), qty in net.items():
            if day == cur and (wh, sku) not in snaps[cur] and qty:
                breaks.add(f"{wh}/{sku}/{cur}")
    return breaks


def test_stock_balances_hold_except_at_injected_discrepancies(small_estate):
    injected = {
        d["record_key"]
        for d in truth(small_estate, "defects.csv")
        if d["kind"] == "stock_discrepancy"
    }
    assert injected
    assert balance_breaks(small_estate) == injected


def test_negative_stock_only_where_injected(small_estate):
    injected = {
        d["record_key"] for d in truth(small_estate, "defects.csv") if d["kind"] == "negative_stock"
    }
    negative = {
        f"{wh}/{sku}/{r['snapshot_date']}"
        for snap in _snapshots(small_estate).values()
        for (wh, sku), r in snap.items()
        if r["on_hand"] < 0
    }
    assert injected and negative == injected


def test_locations_tiers_and_store_stockrooms(small_estate):
    stockrooms = {r[0] for r in erp(small_estate).execute("SELECT warehouse_code FROM erp_store")}
    tiers = defaultdict(set)
    for snap in _snapshots(small_estate).values():
        for (wh, _), r in snap.items():
            tiers[r["warehouse_tier"]].add(wh)
            assert r["allocated"] >= 0 and r["in_transit"] >= 0
    assert set(tiers) == {"CENTRAL", "REGIONAL", "FRONT", "STORE"}
    assert tiers["STORE"] <= stockrooms and len(tiers["STORE"]) >= len(stockrooms) - 1


def test_movements_are_well_formed_and_consistent_with_sales(small_estate):
    moves = _movements(small_estate).values()
    assert {m["movement_type"] for m in moves} == MOVEMENT_TYPES
    for m in moves:
        assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$", m["moved_at"])
        if m["movement_type"] in ("SALE", "PICK", "SHIP", "TRANSFER_OUT"):
            assert m["qty"] < 0
        if m["movement_type"] in ("RECEIPT", "TRANSFER_IN", "RETURN"):
            assert m["qty"] > 0
    sale_refs = {m["ref_id"] for m in moves if m["movement_type"] == "SALE"}
    assert all(m["ref_type"] == "POS_TXN" for m in moves if m["movement_type"] == "SALE")
    store_sales = {
        r["order_key"].split("/", 1)[1]
        for r in truth(small_estate, "sales_lines.csv")
        if r["channel"] == "STORE" and r["status"] == "COMPLETED" and r["item_no"]
    }
    assert sale_refs <= store_sales | {r.split("/", 1)[-1] for r in sale_refs}
    assert len(sale_refs & store_sales) > 0.9 * len(sale_refs)


def test_hourly_files_redeliveries_and_late_movements(small_estate):
    names = [p.name for p in (small_estate / "wms" / "movements").glob("*.jsonl")]
    assert all(re.match(r"^\d{10}(_\d+)?\.jsonl$", n) for n in names)
    assert any("_2" in n for n in names)
    late = 0
    for path in (small_estate / "wms" / "movements").glob("*.jsonl"):
        hour = path.stem[:10]
        for m in jsonl(path):
            moved = m["moved_at"][:13].replace("-", "").replace("T", "")
            assert moved <= hour
            late += moved < hour
    assert late


def test_shipments_are_resent_when_delivered(small_estate):
    rows = [
        r for p in sorted((small_estate / "wms" / "shipments").glob("*.jsonl")) for r in jsonl(p)
    ]
    by_id = defaultdict(list)
    for r in rows:
        by_id[r["shipment_id"]].append(r)
    resent = [v for v in by_id.values() if len(v) > 1]
    assert resent
    for history in resent:
        assert history[0]["delivered_at"] is None and history[-1]["delivered_at"] is not None


def test_item_master_has_empty_and_stale_item_numbers(small_estate):
    items = jsonl(small_estate / "wms" / "items.jsonl")
    erp_items = {r[0] for r in erp(small_estate).execute("SELECT item_no FROM erp_item")}
    empty = sum(r["item_no"] == "" for r in items)
    stale = sum(r["item_no"] not in erp_items and r["item_no"] != "" for r in items)
    assert empty and stale
    assert all(re.match(r"^W-\d{6}$", r["wms_sku"]) for r in items)
    assert all(r["updated_at"].endswith("+08:00") for r in items)
