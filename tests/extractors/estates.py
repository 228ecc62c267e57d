"""Hand-made mini estates: source drops written byte by byte, independent of our generator.

They follow CONTRACT.md literally, so the extractors are proven on estates the
generator did not produce (different ids, sizes and quirk placement).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

TXN_HEADER_A = (
    "txn_id,store_code,till_no,cashier_id,txn_time,member_card_no,member_phone,"
    "payment_method,total_amount,txn_type,orig_txn_id,ecom_order_id"
)
LINE_HEADER_A = "txn_id,line_no,barcode,qty,unit_price,discount_amount,coupon_code"
MEMBER_HEADER_A = "member_card_no,name,phone,gender,birth_date,registered_store,registered_at"
TXN_HEADER_B = (
    "交易号,门店编码,收银台,收银员,交易时间,会员卡号,手机号,支付方式,金额,类型,原交易号,线上订单号"
)
LINE_HEADER_B = "交易号,行号,条码,数量,单价,折扣,券码"
MEMBER_HEADER_B = "会员卡号,姓名,手机号,性别,生日,注册门店,注册时间"


def write_drop(
    root: Path,
    store: str,
    folder: str,
    transactions: list[str],
    lines: list[str],
    members: list[str],
    vendor: str = "A",
    complete: bool = True,
    bom: bool = False,
    summary: str | None = None,
) -> Path:
    """Write one drop; rows are CSV lines without line ends (headers added here)."""
    drop = root / "pos" / store / folder
    drop.mkdir(parents=True, exist_ok=True)
    if vendor == "A":
        headers = (TXN_HEADER_A, LINE_HEADER_A, MEMBER_HEADER_A)
        encoding, newline = "utf-8", "\r\n"
    else:
        headers = (TXN_HEADER_B, LINE_HEADER_B, MEMBER_HEADER_B)
        encoding, newline = "gbk", "\r\n"
    txn_rows = list(transactions) + ([summary] if summary is not None else [])
    for name, header, rows in (
        ("transactions.csv", headers[0], txn_rows),
        ("lines.csv", headers[1], lines),
        ("members.csv", headers[2], members),
    ):
        data = newline.join([header, *rows]).encode(encoding) + newline.encode()
        if bom and vendor == "A":
            data = b"\xef\xbb\xbf" + data
        (drop / name).write_bytes(data)
    if complete:
        (drop / "_SUCCESS").write_bytes(b"")
    return drop


def txn_a(
    txn_id: str, store: str, amount: str, when: str = "2025-03-01 10:00:00", **kw: str
) -> str:
    fields = {
        "till_no": "1",
        "cashier_id": "C01",
        "member_card_no": "",
        "member_phone": "",
        "payment_method": "CASH",
        "txn_type": "SALE",
        "orig_txn_id": "",
        "ecom_order_id": "",
    } | kw
    return ",".join(
        [
            txn_id,
            store,
            fields["till_no"],
            fields["cashier_id"],
            when,
            fields["member_card_no"],
            fields["member_phone"],
            fields["payment_method"],
            amount,
            fields["txn_type"],
            fields["orig_txn_id"],
            fields["ecom_order_id"],
        ]
    )


def txn_b(txn_id: str, store: str, amount: str, when: str = "2025-03-01 11:00:00") -> str:
    return ",".join([txn_id, store, "2", "收银员07", when, "", "", "现金", amount, "销售", "", ""])


def pos_estate(root: Path) -> Path:
    """Both vendors and the POS quirks: BOM, GBK, summary, till retry, bad field count,
    a header-only closed store, an incomplete drop and a re-sent drop."""
    write_drop(
        root,
        "S0001",
        "20250301",
        [
            txn_a(
                "T0001", "S0001", "2598.00", member_card_no="M0001", member_phone="138-0013-8000"
            ),
            txn_a(
                "T0002", "S0001", "99.00", payment_method="PREPAID_ONLINE", ecom_order_id="MALL-1"
            ),
        ],
        [
            "T0001,1,0690123456789,2,1299.00,0.00,",
            "T0001,1,0690123456789,2,1299.00,0.00,",  # till retry: exact duplicate
            "T0002,1,0690000000017,1,99.00,0.00,CPN-1",
            "T0002,2,0690000000024,1,9.90",
        ],  # wrong number of fields
        ["M0001,张三,138-0013-8000,M,1990-01-01,S0001,2025-03-01 10:00:00"],
        bom=True,
    )
    write_drop(root, "S0001", "20250302", [txn_a("T0003", "S0001", "1.00")], [], [], complete=False)
    write_drop(
        root,
        "S0002",
        "20250301",
        [txn_b("B0001", "S0002", "1299.00"), txn_b("B0002", "S0002", "50.00")],
        ["B0001,1,690123456789,1,1299.00,0.00,", "B0002,1,690000000017,1,50.00,0.00,"],
        ["V0001,李四,+86 13900139000,女,1985-05-05,S0002,2025-03-01 11:00:00"],
        vendor="B",
        summary="合计,,,,,,,,1349.00,,,",
    )
    write_drop(root, "S0003", "20250301", [], [], [])  # a closed store: header-only files
    return root


def write_jsonl(path: Path, objects: list[dict | str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objects]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def movement(movement_id: str, moved_at: str, qty: int = 1, sku: str = "W-000001") -> dict:
    return {
        "movement_id": movement_id,
        "moved_at": moved_at,
        "warehouse_code": "WH-C01",
        "wms_sku": sku,
        "qty": qty,
        "movement_type": "RECEIPT" if qty > 0 else "PICK",
        "ref_type": None,
        "ref_id": None,
    }


def item(sku: str, updated_at: str, description: str = "手机壳", item_no: str = "") -> dict:
    return {
        "wms_sku": sku,
        "barcode": "0690000000017",
        "item_no": item_no,
        "description": description,
        "updated_at": updated_at,
    }


def shipment(shipment_id: str, status: str, delivered_at: str | None = None) -> dict:
    return {
        "shipment_id": shipment_id,
        "ecom_order_id": "MALL-1",
        "warehouse_code": "WH-C01",
        "carrier": "SF",
        "tracking_no": "SF100",
        "shipped_at": "2025-03-01T12:00:00+08:00",
        "delivered_at": delivered_at,
        "status": status,
    }


def wms_estate(root: Path) -> Path:
    wms = root / "wms"
    write_jsonl(
        wms / "items.jsonl",
        [
            item("W-000001", "2025-03-01T08:00:00+08:00", "手机 6.1英寸", "HW-M60P-512-BLK"),
            item("W-000002", "2025-03-01T08:00:00+08:00"),
        ],
    )
    write_jsonl(
        wms / "snapshots" / "20250301.jsonl",
        [
            {
                "snapshot_date": "2025-03-01",
                "warehouse_code": "WH-C01",
                "warehouse_tier": "CENTRAL",
                "wms_sku": "W-000001",
                "on_hand": 10,
                "allocated": 0,
                "in_transit": 2,
            },
        ],
    )
    write_jsonl(
        wms / "movements" / "2025030110.jsonl",
        [
            movement("MV1", "2025-03-01T10:05:00+08:00", 5),
            movement("MV2", "2025-03-01T10:35:00+08:00", -1),
        ],
    )
    write_jsonl(wms / "shipments" / "20250301.jsonl", [shipment("SH1", "SHIPPED")])
    return root


ERP_DDL = """
CREATE TABLE erp_item (item_no TEXT PRIMARY KEY, item_name TEXT, series TEXT, model TEXT,
  category_l1 TEXT, category_l2 TEXT, brand TEXT, barcode TEXT, uom TEXT, unit_cost NUMERIC(12,2),
  status TEXT, created_at TIMESTAMP, updated_at TIMESTAMP);
CREATE TABLE erp_store (store_code TEXT PRIMARY KEY, store_name TEXT, store_type TEXT,
  dealer_code TEXT, region TEXT, province TEXT, city TEXT, county TEXT, opened_on DATE,
  closed_on DATE, warehouse_code TEXT, updated_at TIMESTAMP);
CREATE TABLE erp_dealer (dealer_code TEXT PRIMARY KEY, dealer_name TEXT, tier TEXT,
  registered_province TEXT, registered_city TEXT, updated_at TIMESTAMP);
CREATE TABLE erp_price (item_no TEXT, channel TEXT, list_price NUMERIC(12,2), valid_from DATE,
  valid_to DATE);
CREATE TABLE erp_sell_in (doc_no TEXT PRIMARY KEY, dealer_code TEXT, item_no TEXT, qty INTEGER,
  unit_price NUMERIC(12,2), shipped_on DATE, updated_at TIMESTAMP);
CREATE TABLE erp_campaign (campaign_id TEXT PRIMARY KEY, name TEXT, tag TEXT, channel TEXT,
  starts_at TIMESTAMP, ends_at TIMESTAMP, marketing_cost NUMERIC(12,2));
CREATE TABLE erp_deleted (table_name TEXT, pk TEXT, deleted_at TIMESTAMP);
"""


def erp_estate(root: Path) -> Path:
    """A small ERP as SQLite at `erp/erp.db`."""
    path = root / "erp" / "erp.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript(ERP_DDL)
        db.executemany(
            "INSERT INTO erp_item VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    "HW-M60P-512-BLK",
                    "华为 Mate 60 Pro 512G 黑",
                    "Mate",
                    "M60P",
                    "手机",
                    "旗舰",
                    "HUAWEI",
                    "0690123456789",
                    "台",
                    "4999.00",
                    "ACTIVE",
                    "2025-01-01 09:00:00",
                    "2025-03-01 09:00:00",
                ),
                (
                    "HW-CASE-01",
                    "手机壳",
                    "ACC",
                    "CASE",
                    "配件",
                    "保护壳",
                    "HUAWEI",
                    "0690000000017",
                    "个",
                    "20.00",
                    "ACTIVE",
                    "2025-01-01 09:00:00",
                    "2025-03-01 09:30:00",
                ),
            ],
        )
        db.executemany(
            "INSERT INTO erp_store VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    "S0001",
                    "上海南京路店",
                    "DIRECT",
                    None,
                    "华东",
                    "上海",
                    "上海",
                    "黄浦区",
                    "2020-01-01",
                    None,
                    "WH-S0001",
                    "2025-02-01 00:00:00",
                )
            ],
        )
        db.executemany(
            "INSERT INTO erp_dealer VALUES (?,?,?,?,?,?)",
            [("D001", "苏州通达", "T1", "江苏", "苏州", "2025-02-01 00:00:00")],
        )
        db.executemany(
            "INSERT INTO erp_price VALUES (?,?,?,?,?)",
            [
                ("HW-M60P-512-BLK", "STORE", "6999.00", "2025-01-01", None),
                ("HW-M60P-512-BLK", "JD", "6899.00", "2025-01-01", None),
            ],
        )
        db.executemany(
            "INSERT INTO erp_sell_in VALUES (?,?,?,?,?,?,?)",
            [("SI-0001", "D001", "HW-CASE-01", 100, "15.00", "2025-03-01", "2025-03-01 10:00:00")],
        )
        db.executemany(
            "INSERT INTO erp_campaign VALUES (?,?,?,?,?,?,?)",
            [
                (
                    "C618",
                    "618 大促",
                    "618",
                    "ALL",
                    "2025-06-01 00:00:00",
                    "2025-06-18 23:59:59",
                    "100000.00",
                )
            ],
        )
    return root
