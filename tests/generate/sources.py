"""Readers of a generated estate written from the contract, not from the generator's code."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

A_TXN = (
    "txn_id,store_code,till_no,cashier_id,txn_time,member_card_no,member_phone,"
    "payment_method,total_amount,txn_type,orig_txn_id,ecom_order_id"
)
A_LINES = "txn_id,line_no,barcode,qty,unit_price,discount_amount,coupon_code"
A_MEMBERS = "member_card_no,name,phone,gender,birth_date,registered_store,registered_at"
B_TXN = (
    "交易号,门店编码,收银台,收银员,交易时间,会员卡号,手机号,支付方式,金额,类型,原交易号,线上订单号"
)
B_LINES = "交易号,行号,条码,数量,单价,折扣,券码"
B_MEMBERS = "会员卡号,姓名,手机号,性别,生日,注册门店,注册时间"
B_PAYMENT = {
    "现金": "CASH",
    "银联": "UNIONPAY",
    "支付宝": "ALIPAY",
    "微信": "WECHAT",
    "线上已付": "PREPAID_ONLINE",
}
B_TYPE = {"销售": "SALE", "退货": "RETURN", "作废": "VOID"}
FOLDER = re.compile(r"^(\d{8})(?:_(\d+))?$")


@dataclass
class Drop:
    store: str
    day: str
    delivery: int
    path: Path
    vendor: str
    complete: bool

    def text(self, name: str) -> str:
        data = (self.path / name).read_bytes()
        if self.vendor == "A":
            return data.decode("utf-8-sig")
        return data.decode("gbk")

    def rows(self, name: str) -> list[list[str]]:
        """Data rows as parsed CSV, well-formed or not, without the header and the 合计 row."""
        rows = list(csv.reader(io.StringIO(self.text(name))))[1:]
        if rows and rows[-1] and rows[-1][0] == "合计":
            rows = rows[:-1]
        return rows

    def records(self, name: str) -> list[dict[str, str]]:
        """Well-formed rows under English names, exact duplicates removed, B values translated."""
        header = {"transactions.csv": A_TXN, "lines.csv": A_LINES, "members.csv": A_MEMBERS}[
            name
        ].split(",")
        out, seen = [], set()
        for row in self.rows(name):
            if len(row) != len(header) or tuple(row) in seen:
                continue
            seen.add(tuple(row))
            record = dict(zip(header, row, strict=True))
            if self.vendor == "B" and name == "transactions.csv":
                record["payment_method"] = B_PAYMENT[record["payment_method"]]
                record["txn_type"] = B_TYPE[record["txn_type"]]
            out.append(record)
        return out


def drops(root: Path) -> list[Drop]:
    out = []
    for store_dir in sorted((root / "pos").iterdir()):
        for folder in sorted(store_dir.iterdir()):
            m = FOLDER.match(folder.name)
            assert m, folder
            head = (folder / "transactions.csv").read_bytes()[:3]
            vendor = "A" if head in (b"\xef\xbb\xbf", b"txn") else "B"
            out.append(
                Drop(
                    store_dir.name,
                    m.group(1),
                    int(m.group(2) or 1),
                    folder,
                    vendor,
                    (folder / "_SUCCESS").exists(),
                )
            )
    return out


def final_drops(root: Path) -> list[Drop]:
    """The highest complete delivery of each store-day (the contract's rule)."""
    best: dict[tuple[str, str], Drop] = {}
    for d in drops(root):
        if not d.complete:
            continue
        current = best.get((d.store, d.day))
        if current is None or d.delivery > current.delivery:
            best[(d.store, d.day)] = d
    return [best[k] for k in sorted(best)]


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def truth(root: Path, name: str) -> list[dict[str, str]]:
    with (root / "_truth" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def erp(root: Path) -> sqlite3.Connection:
    db = sqlite3.connect(root / "erp" / "erp.db")
    db.row_factory = sqlite3.Row
    return db


@cache
def _cached_final(root: Path) -> tuple:
    return tuple(final_drops(root))


def final_records(root: Path, name: str) -> list[tuple[Drop, dict[str, str]]]:
    return [(d, r) for d in _cached_final(root) for r in d.records(name)]


def to_fen(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    return sign * (int(whole) * 100 + int((frac + "00")[:2]))
