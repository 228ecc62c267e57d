"""E-commerce API objects into rows of the `ecommerce` streams, a chunk of pages at a time.

Pages are handed to the batch in chunks because each hand-over (a contract
check, a staged table) has a fixed cost in DuckDB; every page stays its own
origin, and every row keeps its page and its 1-based position in it.

An order object becomes one `orders` row, one `order_items` row per item and
one `order_coupons` row per code, each child carrying the order's id,
platform and `updated_at` (`order_updated_at`) and the order's position. An
order version that breaks the contract anywhere (its fields, an item's, the
shape of its lists) is quarantined whole: in `orders` with its exact JSON and
every reason, in the child streams row by row pointing at the order's reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from extractors.ecommerce_client import Page
from extractors.landing import Batch, StreamLanding, text_value

ORDER_LISTS = ("items", "coupons")


@dataclass(frozen=True)
class _Row:
    ord: int
    line: int
    record: dict[str, Any]
    raw_text: str | None
    """The object's exact JSON; None for rows cut from an order (they are checked before
    staging, and an order set aside keeps its whole text in quarantine)."""


def land_pages(batch: Batch, stream_name: str, pages: Sequence[Page]) -> None:
    """Hand a chunk of pages of one API collection to the batch."""
    if stream_name == "orders":
        _land_orders(batch, pages)
        return
    stream = batch.stream(stream_name)
    rows = []
    for page in pages:
        ord_ = stream.add_origin(page.request, read=len(page.items))
        for position, (text, value) in enumerate(page.items, start=1):
            if isinstance(value, dict):
                rows.append(_Row(ord_, position, value, text))
            else:
                stream.quarantine(ord_, position, text, f"not a JSON object: {text_value(value)}")
    _add_rows(stream, rows)


def _add_rows(stream: StreamLanding, rows: Sequence[_Row]) -> None:
    """Stage rows of several origins at once (values as text, new keys reported as drift)."""
    if not rows:
        return
    names: dict[str, None] = {}
    keys_by_origin: dict[int, dict[str, None]] = {}
    for row in rows:
        names.update(dict.fromkeys(row.record))
        keys_by_origin.setdefault(row.ord, {}).update(dict.fromkeys(row.record))
    for ord_, keys in keys_by_origin.items():
        stream.check_columns(ord_, list(keys), record_level=True)
    table = pa.table(
        {
            "_ord": pa.array([row.ord for row in rows], pa.int32()),
            "_origin_line": pa.array([row.line for row in rows], pa.int64()),
            **{
                name: pa.array([text_value(row.record.get(name)) for row in rows], pa.string())
                for name in names
            },
        }
    )
    if any(row.raw_text is not None for row in rows):
        table = table.append_column("_raw", pa.array([row.raw_text for row in rows], pa.string()))
    stream.add_rows(f"SELECT * FROM {stream.batch.stage_arrow(table)}")


@dataclass
class _OrderVersion:
    """One order object of a page, split into its rows for the order tables."""

    ords: dict[str, int]
    """The page's origin number in each order stream (`orders`, `items`, `coupons`)."""
    position: int
    text: str
    order: dict[str, Any]
    children: dict[str, list[dict[str, Any]]]
    """Rows per list field: `items` (one per item), `coupons` (one per code)."""
    problems: list[str]


def _split_order(ords: dict[str, int], position: int, text: str, value: Any) -> _OrderVersion:
    if not isinstance(value, dict):
        problem = f"not a JSON object: {text_value(value)}"
        return _OrderVersion(ords, position, text, {}, {"items": [], "coupons": []}, [problem])
    problems = []
    # Values become text once, here: the checks and the staging both read them.
    parent = {
        "order_id": text_value(value.get("order_id")),
        "platform": text_value(value.get("platform")),
        "order_updated_at": text_value(value.get("updated_at")),
    }
    items = value.get("items")
    if not isinstance(items, list):
        problems.append(f"items must be a list, got {text_value(items)}")
        items = []
    item_rows = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(f"items[{index}] is not an object: {text_value(item)}")
            item = {}
        item_rows.append({**parent, **_as_text(item)})
    codes = value.get("coupons")
    if not isinstance(codes, list):
        problems.append(f"coupons must be a list of codes, got {text_value(codes)}")
        codes = []
    coupon_rows = []
    for index, code in enumerate(codes, start=1):
        if not isinstance(code, str):
            problems.append(f"coupons[{index}] is not a code: {text_value(code)}")
        coupon_rows.append({**parent, "coupon_code": text_value(code)})
    order = {key: text_value(item) for key, item in value.items() if key not in ORDER_LISTS}
    children = {"items": item_rows, "coupons": coupon_rows}
    return _OrderVersion(ords, position, text, order, children, problems)


def _as_text(record: dict[str, Any]) -> dict[str, str | None]:
    return {key: text_value(value) for key, value in record.items()}


def _land_orders(batch: Batch, pages: Sequence[Page]) -> None:
    """Land pages of orders: each version whole, or whole in quarantine."""
    orders = batch.stream("orders")
    children = {
        contract.options["list_field"]: batch.stream(contract.name)
        for contract in batch.contract.streams.values()
        if contract.options.get("parent") == "orders"
    }
    versions: list[_OrderVersion] = []
    for page in pages:
        split = [(position, text, value) for position, (text, value) in enumerate(page.items, 1)]
        ords = {"orders": orders.add_origin(page.request, read=len(split))}
        page_versions = [_split_order(ords, *entry) for entry in split]
        for list_field, stream in children.items():
            read = sum(len(v.children[list_field]) for v in page_versions)
            ords[list_field] = stream.add_origin(page.request, read=read)
        versions.extend(page_versions)

    # The commit's own contract checks, run now so that a version is kept or set aside whole.
    for version, reason in zip(
        versions, orders.violations([v.order for v in versions]), strict=True
    ):
        if reason:
            version.problems.append(reason)
    for list_field, stream in children.items():
        owners = [(v, index) for v in versions for index in range(len(v.children[list_field]))]
        reasons = stream.violations([v.children[list_field][index] for v, index in owners])
        for (version, index), reason in zip(owners, reasons, strict=True):
            if reason:
                version.problems.append(f"{list_field}[{index + 1}]: {reason}")

    kept = []
    for version in versions:
        if not version.problems:
            kept.append(version)
            continue
        reason = "; ".join(version.problems)
        orders.quarantine(version.ords["orders"], version.position, version.text, reason)
        for list_field, stream in children.items():
            for row in version.children[list_field]:
                stream.quarantine(
                    version.ords[list_field],
                    version.position,
                    text_value(row),
                    f"its order version is quarantined: {reason}",
                )
    _add_rows(orders, [_Row(v.ords["orders"], v.position, v.order, v.text) for v in kept])
    for list_field, stream in children.items():
        rows = [
            _Row(v.ords[list_field], v.position, row, None)
            for v in kept
            for row in v.children[list_field]
        ]
        _add_rows(stream, rows)
