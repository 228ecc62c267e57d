"""POS drops on disk: two vendors' formats and the quirks of real till exports.

Vendor A: UTF-8 (some tills write a BOM), CRLF. Vendor B: GBK, Chinese
headers and values, barcodes without leading zeros, a `合计` summary row.
Quirks: exact duplicate rows (till retries), malformed rows (a corrupted
extra copy of a row that is also present intact), header-only files on
closed days, re-sent drops (`_2`, `_3`; identical or corrected), drops
abandoned half-written (no `_SUCCESS`, re-sent complete the next day), and
the last day's drops of a few stores still being written at the cut-off.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ronghe.generate.clock import Clock
from ronghe.generate.defects import DefectLog, DefectPlan
from ronghe.generate.money import yuan
from ronghe.generate.people import People
from ronghe.generate.pos import PosTxn, StoreDay
from ronghe.generate.stores import Store
from ronghe.generate.streams import stream

A_TRANSACTIONS = (
    "txn_id,store_code,till_no,cashier_id,txn_time,member_card_no,member_phone,"
    "payment_method,total_amount,txn_type,orig_txn_id,ecom_order_id"
)
B_TRANSACTIONS = (
    "交易号,门店编码,收银台,收银员,交易时间,会员卡号,手机号,支付方式,金额,类型,原交易号,线上订单号"
)
HEADERS = {
    "A": {
        "transactions.csv": A_TRANSACTIONS,
        "lines.csv": "txn_id,line_no,barcode,qty,unit_price,discount_amount,coupon_code",
        "members.csv": "member_card_no,name,phone,gender,birth_date,registered_store,registered_at",
    },
    "B": {
        "transactions.csv": B_TRANSACTIONS,
        "lines.csv": "交易号,行号,条码,数量,单价,折扣,券码",
        "members.csv": "会员卡号,姓名,手机号,性别,生日,注册门店,注册时间",
    },
}
PAYMENT_B = {
    "CASH": "现金",
    "UNIONPAY": "银联",
    "ALIPAY": "支付宝",
    "WECHAT": "微信",
    "PREPAID_ONLINE": "线上已付",
}
TYPE_B = {"SALE": "销售", "RETURN": "退货", "VOID": "作废"}
GENDER_B = {"M": "男", "F": "女", "": ""}
LATE_SHARE_FLOOR = 0.04
QUIRK_SITE_P = 0.35


@dataclass
class _Row:
    text: str
    key: str
    """The record key for the defect log."""
    defect: str = ""


class PosWriter:
    def __init__(
        self, seed: int, files, clock: Clock, people: People, days: int, n_stores: int
    ) -> None:
        self.seed = seed
        self.files = files
        self.clock = clock
        self.people = people
        self.days = days
        self.late_share = max(LATE_SHARE_FLOOR, 0.5 / n_stores)
        self.resends: dict[int, list[tuple[str, dict[str, bytes], Store, list[PosTxn]]]] = {}
        """arrival day -> (folder, files, store, transactions first seen in it)."""
        self.available_day: dict[int, int] = {}
        """store -> day by which the last written day's final, correct delivery is complete."""
        self.counts: Counter[str] = Counter()

    # ------------------------------------------------------------------ day
    def write_day(
        self,
        day: int,
        store_days: list[StoreDay],
        plan: DefectPlan,
        log: DefectLog,
        spike_days: set[tuple[int, int]],
    ) -> None:
        self.available_day = {}
        for folder, content, store, first_seen in self.resends.pop(day, []):
            self._write_drop(folder, content, complete=True)
            self._log_txn_defects(store, first_seen, log, folder)
        compact = self.clock.compact_date(day)
        # One trading store a day always finishes its drop after midnight, so an estate's
        # last day has a drop still being written.
        trading = [sd.store.index for sd in store_days if sd.trades]
        late_store = (
            trading[int(stream(self.seed, "day", day, "late-drop").integers(len(trading)))]
            if trading
            else -1
        )
        for sd in store_days:
            store = sd.store
            rng = stream(self.seed, "day", day, "drops", store.index)
            folder = f"pos/{store.code}/{compact}"
            key = f"{store.code}/{self.clock.date_str(day)}"
            plain = self._render(sd, sd.txns, quirks=None)
            eventful = sd.trades and len(sd.txns) >= 4 and (store.index, day) not in spike_days
            available = day
            if eventful and plan.pending("incomplete_drop") and rng.random() < QUIRK_SITE_P:
                plan.take("incomplete_drop")
                partial = dict(plain)
                body = partial["lines.csv"]
                cut = int(rng.integers(len(body) // 3, max(len(body) // 3 + 1, len(body) - 5)))
                partial["lines.csv"] = body[:cut]
                del partial["members.csv"]
                self._write_drop(folder, partial, complete=False)
                log.add(
                    "incomplete_drop",
                    folder,
                    key,
                    "drop abandoned half-written (no _SUCCESS); re-sent complete as _2",
                )
                available = self._resend(day + 1, f"{folder}_2", plain, store, sd.txns)
            elif eventful and plan.pending("resent_drop_corrected") and rng.random() < QUIRK_SITE_P:
                plan.take("resent_drop_corrected")
                missing = int(rng.integers(1, min(4, len(sd.txns))))
                first = self._render(sd, sd.txns[:-missing], quirks=None)
                self._write_drop(folder, first, complete=True)
                arrive = day + 1 + int(rng.random() < 0.4)
                available = self._resend(arrive, f"{folder}_2", plain, store, sd.txns[-missing:])
                if arrive < self.days:
                    log.add(
                        "resent_drop_corrected",
                        f"{folder}_2",
                        key,
                        f"re-send adds {missing} transaction(s) missing from the first delivery",
                    )
                self._log_txn_defects(store, sd.txns[:-missing], log, folder)
            else:
                quirks = self._quirks(rng, plan, sd) if sd.trades else None
                content = self._render(sd, sd.txns, quirks, log, folder) if quirks else plain
                late = rng.random() < self.late_share or store.index == late_store
                complete_day = day + 1 if late else day
                self._write_drop(folder, content, complete=complete_day < self.days)
                available = complete_day
                self._log_txn_defects(store, sd.txns, log, folder)
                if (
                    eventful
                    and not quirks
                    and plan.pending("resent_drop_identical")
                    and rng.random() < QUIRK_SITE_P
                ):
                    plan.take("resent_drop_identical")
                    arrive = day + 1 + int(rng.random() < 0.4)
                    copies = 2 if rng.random() < 0.25 else 1
                    for n in range(copies):
                        self._resend(arrive + n, f"{folder}_{n + 2}", content, store, [])
                        if arrive + n < self.days:
                            log.add(
                                "resent_drop_identical",
                                f"{folder}_{n + 2}",
                                key,
                                "re-send identical to the first delivery",
                            )
            self.available_day[store.index] = available

    def _resend(
        self,
        day: int,
        folder: str,
        content: dict[str, bytes],
        store: Store,
        first_seen: list[PosTxn],
    ) -> int:
        """Queue a later delivery; returns its arrival day (written only if within the estate)."""
        if day < self.days:
            self.resends.setdefault(day, []).append((folder, content, store, first_seen))
        return day

    def _write_drop(self, folder: str, content: dict[str, bytes], complete: bool) -> None:
        self.files.ensure_dir(folder)
        for name, data in content.items():
            self.files.write(f"{folder}/{name}", data)
        if complete:
            self.files.write(f"{folder}/_SUCCESS", b"")
        self.counts["pos_drops"] += 1
        self.counts["pos_drops_complete" if complete else "pos_drops_incomplete"] += 1
        for name, data in content.items():
            rows = max(0, data.count(b"\n") - 1)
            self.counts[f"pos_{name.removesuffix('.csv')}_rows"] += rows

    # ---------------------------------------------------------------- quirks
    def _quirks(self, rng: np.random.Generator, plan: DefectPlan, sd: StoreDay) -> list[str]:
        quirks = []
        if not sd.txns:
            return quirks
        while plan.pending("duplicate_line") and rng.random() < QUIRK_SITE_P:
            plan.take("duplicate_line")
            quirks.append("duplicate_line")
        while plan.pending("malformed_row") and rng.random() < QUIRK_SITE_P:
            plan.take("malformed_row")
            quirks.append("malformed_row")
        return quirks

    # --------------------------------------------------------------- render
    def _render(
        self,
        sd: StoreDay,
        txns: list[PosTxn],
        quirks: list[str] | None,
        log: DefectLog | None = None,
        folder: str = "",
    ) -> dict[str, bytes]:
        vendor = sd.vendor
        store_ = sd.store
        clock = self.clock
        txn_rows: list[_Row] = []
        line_rows: list[_Row] = []
        b = vendor == "B"
        for txn in txns:
            card = self.people.card_no(txn.member) if txn.member >= 0 else ""
            fields = (
                txn.txn_id,
                store_.code,
                str(txn.till),
                txn.cashier,
                clock.local(txn.t),
                card,
                txn.phone,
                PAYMENT_B[txn.payment] if b else txn.payment,
                yuan(txn.total),
                TYPE_B[txn.kind] if b else txn.kind,
                txn.orig_txn_id,
                txn.ecom_order_id,
            )
            txn_rows.append(_Row(",".join(fields), f"{store_.code}/{txn.txn_id}"))
            for line in txn.lines:
                barcode = line.barcode.lstrip("0") if b else line.barcode
                fields = (
                    txn.txn_id,
                    str(line.line_no),
                    barcode,
                    str(line.qty),
                    yuan(line.unit_price),
                    yuan(line.discount),
                    line.coupon,
                )
                line_rows.append(
                    _Row(",".join(fields), f"{store_.code}/{txn.txn_id}/{line.line_no}")
                )
        member_rows = []
        for member in sd.registrations:
            m = self.people.member_row(member)
            birth = clock.date_str(m["birth_day"]) if m["birth_day"] is not None else ""
            gender = GENDER_B[m["gender"]] if b else m["gender"]
            member_rows.append(
                ",".join(
                    (
                        m["member_card_no"],
                        m["name"],
                        m["phone"],
                        gender,
                        birth,
                        store_.code,
                        clock.local(m["registered_t"]),
                    )
                )
            )
        if quirks:
            rng = stream(self.seed, "day", sd.day, "quirks", store_.index)
            for quirk in quirks:
                rows = line_rows if rng.random() < 0.7 or not txn_rows else txn_rows
                k = int(rng.integers(len(rows)))
                source = rows[k]
                if quirk == "duplicate_line":
                    rows.insert(
                        k + 1 + int(rng.integers(0, min(3, len(rows) - k))),
                        _Row(source.text, source.key, "duplicate_line"),
                    )
                else:
                    parts = source.text.split(",")
                    if rng.random() < 0.5:
                        bad = ",".join(parts[: int(rng.integers(2, len(parts) - 1))])
                        rows.insert(k, _Row(bad, source.key, "malformed_row"))
                    else:
                        rows.insert(
                            k + 1, _Row(source.text + ",RETRY", source.key, "malformed_row")
                        )
        newline = "\n" if b else "\r\n"
        encoding = "gbk" if b else "utf-8"
        bom = b"\xef\xbb\xbf" if not b and store_.bom else b""
        headers = HEADERS[vendor]
        out = {}
        txn_texts = [r.text for r in txn_rows]
        if b and txn_rows:
            txn_texts.append(
                ",".join(
                    (
                        "合计",
                        str(len(txns)),
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        yuan(sum(t.total for t in txns)),
                        "",
                        "",
                        "",
                    )
                )
            )
        for name, texts in (
            ("transactions.csv", txn_texts),
            ("lines.csv", [r.text for r in line_rows]),
            ("members.csv", member_rows),
        ):
            body = newline.join([headers[name], *texts]) + newline
            out[name] = bom + body.encode(encoding, errors="replace")
        if log is not None and quirks:
            for name, rows in (("transactions.csv", txn_rows), ("lines.csv", line_rows)):
                for n, row in enumerate(rows, start=2):
                    if row.defect == "duplicate_line":
                        log.add(
                            "duplicate_line",
                            f"{folder}/{name}",
                            row.key,
                            f"row repeated at line {n} (till retry)",
                        )
                    elif row.defect == "malformed_row":
                        log.add(
                            "malformed_row",
                            f"{folder}/{name}",
                            f"line:{n}",
                            f"wrong field count; a corrupt copy of {row.key} (also present intact)",
                        )
        return out

    @staticmethod
    def _log_txn_defects(store: Store, txns: list[PosTxn], log: DefectLog, folder: str) -> None:
        for txn in txns:
            for kind, line_no in txn.defects:
                if kind == "unknown_barcode":
                    log.add(
                        kind,
                        f"{folder}/lines.csv",
                        f"{store.code}/{txn.txn_id}/{line_no}",
                        f"barcode {txn.lines[line_no - 1].barcode} matches no item",
                    )
                elif kind == "reused_coupon":
                    line = txn.lines[line_no - 1]
                    log.add(
                        kind,
                        f"{folder}/lines.csv",
                        line.coupon,
                        f"coupon redeemed again on {store.code}/{txn.txn_id}/{line_no}",
                    )
                elif kind == "return_without_sale":
                    log.add(
                        kind,
                        f"{folder}/transactions.csv",
                        f"{store.code}/{txn.txn_id}",
                        f"orig_txn_id {txn.orig_txn_id} matches no sale",
                    )
                elif kind == "bopis_unknown_order":
                    log.add(
                        kind,
                        f"{folder}/transactions.csv",
                        f"{store.code}/{txn.txn_id}",
                        f"ecom_order_id {txn.ecom_order_id} matches no online order",
                    )
