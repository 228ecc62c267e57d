"""Ground truth beside the sources (`_truth/`): who is who, what is what, what was sold.

The pipeline never reads these files; tests, evaluations and benchmarks do.
Column meanings are documented in TRUTH.md.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ronghe.generate.clock import DAY, Clock
from ronghe.generate.money import yuan
from ronghe.generate.online import Order
from ronghe.generate.people import People
from ronghe.generate.pos import StoreDay
from ronghe.generate.products import PLATFORMS, Catalog

SALES_COLUMNS = (
    "channel",
    "store_code",
    "platform",
    "order_key",
    "line_no",
    "ordered_date",
    "item_no",
    "qty",
    "unit_price",
    "discount",
    "net_amount",
    "status",
    "order_status",
    "fulfilment",
    "bopis",
    "pickup_txn",
    "settled",
)
POS_STATUS = {"SALE": "COMPLETED", "RETURN": "RETURNED", "VOID": "VOID"}


class TruthWriter:
    def __init__(
        self, files, root: Path, clock: Clock, catalog: Catalog, people: People, days: int
    ) -> None:
        self.files = files
        self.clock = clock
        self.catalog = catalog
        self.people = people
        self.days = days
        self._partial = root / "_truth" / ".sales_lines.partial"
        self._partial.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self._partial.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._handle, lineterminator="\n")
        self.pickups: dict[str, str] = {}
        self.rows = 0

    def store_days(self, store_days: list[StoreDay], available_day: dict[int, int]) -> None:
        cat = self.catalog
        for sd in store_days:
            settled = "1" if available_day.get(sd.store.index, sd.day) < self.days else "0"
            code = sd.store.code
            for txn in sd.txns:
                if txn.pickup:
                    self.pickups[txn.pickup_order] = f"{code}/{txn.txn_id}"
                if not txn.in_truth:
                    continue
                date = self.clock.date_str(txn.t // DAY)
                status = POS_STATUS[txn.kind]
                for line in txn.lines:
                    self._csv.writerow(
                        (
                            "STORE",
                            code,
                            "",
                            f"{code}/{txn.txn_id}",
                            line.line_no,
                            date,
                            cat.item_no[line.item] if line.item >= 0 else "",
                            line.qty,
                            yuan(line.unit_price),
                            yuan(line.discount),
                            yuan(line.amount),
                            status,
                            txn.kind,
                            "",
                            "0",
                            "",
                            settled,
                        )
                    )
                    self.rows += 1

    def orders(self, orders: list[Order]) -> None:
        cutoff = self.days * DAY
        cat = self.catalog
        for order in orders:
            status = [s for t, s in order.timeline if t < cutoff][-1]
            date = self.clock.date_str(order.created_t // DAY)
            store = order.store.code if order.store else ""
            key = f"{order.platform}/{order.order_id}"
            bopis = "1" if order.fulfilment == "BOPIS" else "0"
            for line in order.lines:
                amount = line.qty * line.unit_price - line.discount
                base = (
                    order.platform,
                    store,
                    order.platform,
                    key,
                    line.line_id,
                    date,
                    cat.item_no[line.item],
                )
                tail = (status, order.fulfilment, bopis, "", "1")
                first = "CANCELLED" if status == "CANCELLED" else "COMPLETED"
                self._csv.writerow(
                    (
                        *base,
                        line.qty,
                        yuan(line.unit_price),
                        yuan(line.discount),
                        yuan(amount),
                        first,
                        *tail,
                    )
                )
                self.rows += 1
                if status == "RETURNED":
                    self._csv.writerow(
                        (
                            *base,
                            -line.qty,
                            yuan(line.unit_price),
                            yuan(-line.discount),
                            yuan(-amount),
                            "RETURNED",
                            *tail,
                        )
                    )
                    self.rows += 1

    def finish_sales_lines(self) -> None:
        self._handle.close()
        out = self.files.stream("_truth/sales_lines.csv")
        out.write((",".join(SALES_COLUMNS) + "\n").encode())
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        with self._partial.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                if row[14] == "1":
                    row[15] = self.pickups.get(row[3].split("/", 1)[1], "")
                writer.writerow(row)
                if buffer.tell() > 1 << 20:
                    out.write(buffer.getvalue().encode())
                    buffer.seek(0)
                    buffer.truncate()
        out.write(buffer.getvalue().encode())
        out.close()
        self._partial.unlink()

    def persons(self) -> int:
        """One row per member card and platform account visible in the sources at the cut-off."""
        cutoff = self.days * DAY
        people = self.people
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("source_system", "source_record_id", "person_id"))
        m = people.members
        rows = 0
        for r in range(m.size):
            t = int(m["registered_t"][r])
            visible = 0 <= t < cutoff or (t < 0 and int(m["first_use_day"][r]) < self.days)
            if visible:
                writer.writerow(("POS_MEMBER", people.card_no(r), f"P{int(m['person'][r]):08d}"))
                rows += 1
        for platform in PLATFORMS:
            c = people.customers[platform]
            for r in range(c.size):
                if int(c["registered_t"][r]) < cutoff:
                    writer.writerow(
                        (platform, people.buyer_id(platform, r), f"P{int(c['person'][r]):08d}")
                    )
                    rows += 1
        self.files.write("_truth/persons.csv", out.getvalue().encode())
        return rows

    def products(self) -> int:
        """Every code a source can show for an item, with the item_no it stands for."""
        cutoff = self.days * DAY
        cat = self.catalog
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("source_system", "product_code", "item_no"))
        rows = 0
        for i in range(cat.size):
            if cat.launch_day[i] < self.days or cat.erp_created_t[i] < cutoff:
                writer.writerow(("POS_BARCODE", cat.barcode[i], cat.item_no[i]))
                rows += 1
                if cat.barcode[i].startswith("0"):
                    writer.writerow(("POS_BARCODE", cat.barcode[i].lstrip("0"), cat.item_no[i]))
                    rows += 1
            if cat.wms_created_t[i] < cutoff:
                writer.writerow(("WMS", cat.wms_sku[i], cat.item_no[i]))
                rows += 1
        for platform in PLATFORMS:
            for listing in cat.listings[platform]:
                if listing.listed_t < cutoff:
                    writer.writerow((platform, listing.platform_sku, cat.item_no[listing.item]))
                    rows += 1
        self.files.write("_truth/products.csv", out.getvalue().encode())
        return rows

    def manifest(self, manifest: dict) -> None:
        self.files.write(
            "_truth/manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        )
