"""POS drops follow the contract: both vendors' formats, the _SUCCESS rule, re-sends and quirks."""

from __future__ import annotations

import re
from collections import Counter

from tests.generate.sources import (
    A_LINES,
    A_MEMBERS,
    A_TXN,
    B_LINES,
    B_MEMBERS,
    B_TXN,
    drops,
    erp,
    final_drops,
    to_fen,
)


def test_both_vendors_and_every_store_type_deliver(small_estate):
    types = {
        r["store_code"]: r["store_type"]
        for r in erp(small_estate).execute("SELECT * FROM erp_store")
    }
    assert set(types.values()) == {"DIRECT", "AUTHORISED", "DEALER", "POPUP"}
    vendors = {d.vendor for d in drops(small_estate)}
    assert vendors == {"A", "B"}
    delivering_types = {types[d.store] for d in drops(small_estate)}
    assert delivering_types == {"DIRECT", "AUTHORISED", "DEALER", "POPUP"}


def test_vendor_a_is_utf8_with_and_without_bom_and_crlf(small_estate):
    a = [d for d in drops(small_estate) if d.vendor == "A"]
    starts = Counter(
        (d.path / "transactions.csv").read_bytes().startswith(b"\xef\xbb\xbf") for d in a
    )
    assert starts[True] and starts[False]
    for d in a:
        for name, header in (
            ("transactions.csv", A_TXN),
            ("lines.csv", A_LINES),
            ("members.csv", A_MEMBERS),
        ):
            if not (d.path / name).exists():
                continue
            raw = (d.path / name).read_bytes()
            text = raw.decode("utf-8-sig")
            assert text.split("\r\n", 1)[0] == header
            if d.complete:
                assert raw.endswith(b"\r\n")
                assert raw.count(b"\n") == raw.count(b"\r\n"), f"{d.path}/{name} mixes line ends"


def test_vendor_b_is_gbk_with_chinese_headers_and_summary_row(small_estate):
    b = [d for d in drops(small_estate) if d.vendor == "B" and d.complete]
    assert b
    summaries = 0
    for d in b:
        raw = (d.path / "transactions.csv").read_bytes()
        text = raw.decode("gbk")
        lines = text.splitlines()
        assert lines[0] == B_TXN
        assert (d.path / "lines.csv").read_bytes().decode("gbk").splitlines()[0] == B_LINES
        assert (d.path / "members.csv").read_bytes().decode("gbk").splitlines()[0] == B_MEMBERS
        if len(lines) > 1:
            last = lines[-1].split(",")
            assert last[0] == "合计", d.path
            records = d.records("transactions.csv")
            assert int(last[1]) == len(records)
            assert to_fen(last[8]) == sum(to_fen(r["total_amount"]) for r in records)
            summaries += 1
    assert summaries
    # Chinese values, and at least one vendor B file that is not plain ASCII-compatible UTF-8.
    types = {r["txn_type"] for d in b for r in d.records("transactions.csv")}
    assert types <= {"SALE", "RETURN", "VOID"} and "SALE" in types
    assert any(not _is_utf8((d.path / "transactions.csv").read_bytes()) for d in b)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_vendor_b_barcodes_lose_leading_zeros(small_estate):
    erp_barcodes = {r[0] for r in erp(small_estate).execute("SELECT barcode FROM erp_item")}
    stripped = {b.lstrip("0") for b in erp_barcodes if b.startswith("0")}
    b_codes = {
        r["barcode"]
        for d in final_drops(small_estate)
        if d.vendor == "B"
        for r in d.records("lines.csv")
    }
    a_codes = {
        r["barcode"]
        for d in final_drops(small_estate)
        if d.vendor == "A"
        for r in d.records("lines.csv")
    }
    assert not any(code.startswith("0") for code in b_codes)
    assert b_codes & stripped, "vendor B sold no item whose barcode starts with 0"
    assert any(code.startswith("0") and len(code) == 13 for code in a_codes)


def test_success_rule_incomplete_and_resent_drops(small_estate):
    all_drops = drops(small_estate)
    incomplete = [d for d in all_drops if not d.complete]
    assert incomplete, "no drop without _SUCCESS"
    last_day = max(d.day for d in all_drops)
    assert any(d.day == last_day for d in incomplete), "no drop still being written on the last day"
    resent = [d for d in all_drops if d.delivery >= 2]
    assert resent and all(d.complete for d in resent)
    identical = corrected = 0
    for d in resent:
        first = next(x for x in all_drops if (x.store, x.day, x.delivery) == (d.store, d.day, 1))
        if not first.complete:
            continue
        same = all(
            (first.path / n).read_bytes() == (d.path / n).read_bytes()
            for n in ("transactions.csv", "lines.csv", "members.csv")
        )
        identical += same
        corrected += not same
    assert identical and corrected


def test_header_only_files_on_closed_days(small_estate):
    header_only = [
        d
        for d in drops(small_estate)
        if d.complete and not d.rows("transactions.csv") and not d.rows("lines.csv")
    ]
    assert header_only
    for d in header_only:
        assert len(d.text("transactions.csv").splitlines()) == 1


def test_duplicates_and_malformed_rows_exist(small_estate):
    duplicated = malformed = 0
    for d in drops(small_estate):
        for name, width in (("transactions.csv", 12), ("lines.csv", 7)):
            if not (d.path / name).exists() or not d.complete:
                continue
            rows = [tuple(r) for r in d.rows(name)]
            duplicated += len(rows) - len(set(rows))
            malformed += sum(len(r) != width for r in rows)
    assert duplicated and malformed


def test_transaction_totals_add_up_and_ids_are_unique_per_store(small_estate):
    checked = 0
    for d in final_drops(small_estate):
        lines: dict[str, int] = {}
        for r in d.records("lines.csv"):
            lines[r["txn_id"]] = (
                lines.get(r["txn_id"], 0)
                + int(r["qty"]) * to_fen(r["unit_price"])
                - to_fen(r["discount_amount"])
            )
        txns = d.records("transactions.csv")
        assert len({t["txn_id"] for t in txns}) == len(txns)
        for t in txns:
            assert to_fen(t["total_amount"]) == lines[t["txn_id"]], (d.path, t["txn_id"])
            if t["txn_type"] == "RETURN":
                assert t["orig_txn_id"]
            checked += 1
    assert checked > 100


def test_phones_arrive_in_all_five_forms(small_estate):
    patterns = {
        "plain": r"^1\d{10}$",
        "dashed": r"^1\d{2}-\d{4}-\d{4}$",
        "plus86": r"^\+86 1\d{10}$",
        "86dash": r"^86-1\d{2} \d{4} \d{4}$",
        "paren": r"^\(\+86\)1\d{2} \d{4} \d{4}$",
    }
    phones = [
        r["member_phone"]
        for d in final_drops(small_estate)
        for r in d.records("transactions.csv")
        if r["member_phone"]
    ] + [r["phone"] for d in final_drops(small_estate) for r in d.records("members.csv")]
    seen = {name for name, p in patterns.items() for phone in phones if re.match(p, phone)}
    assert seen == set(patterns)
    assert all(any(re.match(p, phone) for p in patterns.values()) for phone in phones)


def test_members_and_phones_on_a_realistic_share_of_sales(small_estate):
    sales = [
        r
        for d in final_drops(small_estate)
        for r in d.records("transactions.csv")
        if r["txn_type"] == "SALE" and r["payment_method"] != "PREPAID_ONLINE"
    ]
    with_card = sum(bool(r["member_card_no"]) for r in sales) / len(sales)
    with_phone = sum(bool(r["member_phone"]) for r in sales) / len(sales)
    assert 0.2 < with_card < 0.7
    assert 0.05 < with_phone < 0.5


def test_pickups_are_prepaid_online_sales_with_an_order_id(small_estate):
    pickups = [
        r
        for d in final_drops(small_estate)
        for r in d.records("transactions.csv")
        if r["payment_method"] == "PREPAID_ONLINE"
    ]
    assert pickups
    assert all(r["txn_type"] == "SALE" and r["ecom_order_id"] for r in pickups)
    others = [
        r
        for d in final_drops(small_estate)
        for r in d.records("transactions.csv")
        if r["payment_method"] != "PREPAID_ONLINE"
    ]
    assert not any(r["ecom_order_id"] for r in others)


def test_returns_reference_earlier_sales_sometimes_in_another_store(small_estate):
    sold_at = {}
    for d in final_drops(small_estate):
        for t in d.records("transactions.csv"):
            if t["txn_type"] == "SALE":
                sold_at[t["txn_id"]] = (d.store, t["txn_time"][:10])
    returns = [
        (d.store, t)
        for d in final_drops(small_estate)
        for t in d.records("transactions.csv")
        if t["txn_type"] == "RETURN" and t["orig_txn_id"] in sold_at
    ]
    assert returns
    assert any(sold_at[t["orig_txn_id"]][1] < t["txn_time"][:10] for _, t in returns)
    assert any(sold_at[t["orig_txn_id"]][0] != store for store, t in returns)
    voids = [
        t
        for d in final_drops(small_estate)
        for t in d.records("transactions.csv")
        if t["txn_type"] == "VOID"
    ]
    assert voids
