"""The ground truth agrees with the sources: sales counted once, people and products mapped."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from tests.generate.sources import drops, final_drops, jsonl, to_fen, truth

PLATFORMS = ("MALL", "TMALL", "JD")


def test_store_truth_matches_the_final_deliveries(small_estate):
    rows = [r for r in truth(small_estate, "sales_lines.csv") if r["channel"] == "STORE"]
    settled = {(r["order_key"], r["line_no"]): r for r in rows if r["settled"] == "1"}
    assert settled and any(r["settled"] == "0" for r in rows)
    pickups = set()
    source = {}
    for drop in final_drops(small_estate):
        kinds = {}
        for t in drop.records("transactions.csv"):
            kinds[t["txn_id"]] = t["txn_type"]
            if t["payment_method"] == "PREPAID_ONLINE":
                pickups.add(f"{drop.store}/{t['txn_id']}")
        for line in drop.records("lines.csv"):
            key = f"{drop.store}/{line['txn_id']}"
            if key not in pickups:
                source[(key, line["line_no"])] = (line, kinds[line["txn_id"]], drop)
    # Settled truth lines are in the sources as recorded; every source line is in the truth.
    for key, row in settled.items():
        line, kind, _ = source[key]
        assert int(line["qty"]) == int(row["qty"])
        assert to_fen(line["unit_price"]) == to_fen(row["unit_price"])
        assert int(row["qty"]) * to_fen(row["unit_price"]) - to_fen(row["discount"]) == to_fen(
            row["net_amount"]
        )
        assert {"SALE": "COMPLETED", "RETURN": "RETURNED", "VOID": "VOID"}[kind] == row["status"]
    truth_keys = {(r["order_key"], r["line_no"]) for r in rows}
    assert set(source) <= truth_keys
    assert {r["status"] for r in rows} == {"COMPLETED", "RETURNED", "VOID"}


def test_online_truth_matches_the_latest_order_versions(small_estate):
    rows = [r for r in truth(small_estate, "sales_lines.csv") if r["channel"] in PLATFORMS]
    latest = {}
    for platform in PLATFORMS:
        for o in jsonl(small_estate / "ecommerce" / platform / "orders.jsonl"):
            latest[f"{platform}/{o['order_id']}"] = o
    by_order = defaultdict(list)
    for r in rows:
        by_order[r["order_key"]].append(r)
    assert set(by_order) == set(latest)
    for key, order_rows in by_order.items():
        order = latest[key]
        assert {r["order_status"] for r in order_rows} == {order["status"]}
        completed = [r for r in order_rows if r["status"] in ("COMPLETED", "CANCELLED")]
        assert len(completed) == len(order["items"])
        returned = [r for r in order_rows if r["status"] == "RETURNED"]
        assert len(returned) == (len(order["items"]) if order["status"] == "RETURNED" else 0)
        assert all(int(r["qty"]) < 0 for r in returned)
        if order["status"] == "CANCELLED":
            assert {r["status"] for r in completed} == {"CANCELLED"}


def test_bopis_orders_are_counted_once_and_linked_to_their_pickup(small_estate):
    rows = truth(small_estate, "sales_lines.csv")
    store_keys = {r["order_key"] for r in rows if r["channel"] == "STORE"}
    pickups = {}
    for drop in final_drops(small_estate):
        for t in drop.records("transactions.csv"):
            if t["payment_method"] == "PREPAID_ONLINE":
                pickups[f"{drop.store}/{t['txn_id']}"] = t["ecom_order_id"]
    assert pickups and not set(pickups) & store_keys
    linked = {r["pickup_txn"] for r in rows if r["bopis"] == "1" and r["pickup_txn"]}
    assert linked and linked <= set(pickups) | _unsettled_pickups(small_estate)


def _unsettled_pickups(root):
    out = set()
    for drop in drops(root):
        if (drop.path / "transactions.csv").exists():
            for row in drop.rows("transactions.csv"):
                if len(row) == 12:
                    out.add(f"{drop.store}/{row[0]}")
    return out


def test_persons_cover_every_record_and_hold_realistic_identity_noise(small_estate):
    persons = truth(small_estate, "persons.csv")
    ids = {(r["source_system"], r["source_record_id"]) for r in persons}
    assert len(ids) == len(persons)
    for platform in PLATFORMS:
        for c in jsonl(small_estate / "ecommerce" / platform / "customers.jsonl"):
            assert (platform, c["buyer_id"]) in ids
    cards = {
        r["member_card_no"] for d in final_drops(small_estate) for r in d.records("members.csv")
    }
    cards |= {
        r["member_card_no"]
        for d in final_drops(small_estate)
        for r in d.records("transactions.csv")
        if r["member_card_no"]
    }
    assert cards and {("POS_MEMBER", c) for c in cards} <= ids
    # Several records per person across systems, and some people hold two member cards.
    per_person = defaultdict(Counter)
    for r in persons:
        per_person[r["person_id"]][r["source_system"]] += 1
    assert sum(len(c) >= 2 for c in per_person.values()) > len(per_person) * 0.2
    assert any(c["POS_MEMBER"] >= 2 for c in per_person.values())


def test_shared_and_recycled_phones_belong_to_different_people(small_estate):
    person_of = {
        (r["source_system"], r["source_record_id"]): r["person_id"]
        for r in truth(small_estate, "persons.csv")
    }
    owners = defaultdict(set)
    for c in jsonl(small_estate / "ecommerce" / "MALL" / "customers.jsonl"):
        owners[c["phone"]].add(person_of[("MALL", c["buyer_id"])])
    for d in final_drops(small_estate):
        for m in d.records("members.csv"):
            owners[re.sub(r"\D", "", m["phone"])[-11:]].add(
                person_of[("POS_MEMBER", m["member_card_no"])]
            )
    assert any(len(people) > 1 for people in owners.values())


def test_names_are_written_differently_across_records(small_estate):
    names = [
        c["name"]
        for p in PLATFORMS
        for c in jsonl(small_estate / "ecommerce" / p / "customers.jsonl")
    ]
    names += [m["name"] for d in final_drops(small_estate) for m in d.records("members.csv")]
    assert any("\u3000" in n for n in names), "no full-width space"
    assert any(n != n.strip() or "  " in n or re.search(r"\S \S", n) for n in names), (
        "no stray spacing"
    )
    traditional = set(
        "張劉陳楊黃趙吳週孫馬朱鄭謝韓馮鄧曹彭蕭葉蘇魏呂盧蔣蔡賈華偉強軍傑濤輝鵬飛寧龍歡陽國東誠麗艷娟霞燕玲蘭萍紅婷雪潔琴雲夢"
    )
    assert any(set(n) & traditional for n in names), "no traditional script"


def test_products_map_every_code_the_sources_use(small_estate):
    products = truth(small_estate, "products.csv")
    codes = defaultdict(set)
    for r in products:
        codes[r["source_system"]].add(r["product_code"])
    for p in ("MALL", "TMALL", "JD"):
        listed = {
            entry["platform_sku"]
            for entry in jsonl(small_estate / "ecommerce" / p / "listings.jsonl")
        }
        assert listed == codes[p]
        for o in jsonl(small_estate / "ecommerce" / p / "orders.jsonl"):
            assert {i["platform_sku"] for i in o["items"]} <= codes[p]
    assert {r["wms_sku"] for r in jsonl(small_estate / "wms" / "items.jsonl")} == codes["WMS"]
    assert any(c.startswith("0") for c in codes["POS_BARCODE"])
    assert any(len(c) < 13 for c in codes["POS_BARCODE"])


def test_manifest_counts(small_estate):
    import json

    manifest = json.loads((small_estate / "_truth" / "manifest.json").read_text())
    assert (
        manifest["scale"] == 0.01
        and manifest["days"] == 10
        and manifest["start_date"] == "2025-08-20"
    )
    assert manifest["counts"]["truth_sales_lines"] == len(truth(small_estate, "sales_lines.csv"))
    assert manifest["counts"]["pos_drops"] == len(drops(small_estate))
    assert sum(manifest["defects"].values()) == len(truth(small_estate, "defects.csv"))


def test_sales_use_the_channel_list_price_of_the_day(small_estate):
    from tests.generate.sources import erp

    prices = defaultdict(list)
    for item, channel, price, start, end in erp(small_estate).execute("SELECT * FROM erp_price"):
        prices[(item, channel)].append((start, end or "9999-12-31", round(price * 100)))
    checked = 0
    for r in truth(small_estate, "sales_lines.csv"):
        if (
            r["status"] != "COMPLETED"
            or not r["item_no"]
            or (r["item_no"], r["channel"]) not in prices
        ):
            continue
        valid = [
            p
            for start, end, p in prices[(r["item_no"], r["channel"])]
            if start <= r["ordered_date"] <= end
        ]
        if not valid:
            # Sold before the ERP knew the item: its first price row starts later.
            assert (
                min(start for start, _, _ in prices[(r["item_no"], r["channel"])])
                > r["ordered_date"]
            )
            continue
        assert valid == [to_fen(r["unit_price"])], r
        checked += 1
    assert checked > 500


def test_coupons_are_redeemed_online_and_at_tills(small_estate):
    till = [
        ln for d in final_drops(small_estate) for ln in d.records("lines.csv") if ln["coupon_code"]
    ]
    online = [
        o
        for p in PLATFORMS
        for o in jsonl(small_estate / "ecommerce" / p / "orders.jsonl")
        if o["coupons"]
    ]
    assert till and online
