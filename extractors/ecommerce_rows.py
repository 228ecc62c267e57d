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

Most pages take the columnar path (`ecommerce_columns`: one Arrow table per
chunk, the contract checked in SQL); a page the columns cannot hold exactly
is split here object by object, with the same outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import pyarrow as pa

from extractors import ecommerce_columns as columns
from extractors.contracts import StreamContract
from extractors.ecommerce_client import Page
from extractors.ecommerce_columns import ORDER_LISTS
from extractors.landing import Batch, StreamLanding, text_value


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
    # Origins are numbered in the order the pages were read, whichever path a page takes.
    ord_of = {id(page): stream.add_origin(page.request, read=len(page.objects)) for page in pages}
    plain, exact = _split_pages(pages, stream.contract, None)
    if plain:
        ords = [{stream_name: ord_of[id(p.page)]} for p in plain]
        for column_page, page_ords in zip(plain, ords, strict=True):
            stream.check_columns(page_ords[stream_name], column_page.keys, record_level=True)
        staged = columns.stage(batch, plain, ords)
        failing = columns.failing_rows(batch, staged, stream.contract)
        pages_by_ord = {o[stream_name]: p.page for o, p in zip(ords, plain, strict=True)}
        raw = pa.table(
            {
                "_ord": pa.array([row[0] for row in failing], pa.int32()),
                "_origin_line": pa.array([row[1] for row in failing], pa.int64()),
                "_raw": pa.array(
                    [pages_by_ord[ord_].items[line - 1][0] for ord_, line, _ in failing],
                    pa.string(),
                ),
            }
        )
        # The commit checks the rows again; the failing ones keep their exact JSON.
        stream.add_rows(
            f"SELECT s.*, r._raw FROM {staged} s "
            f"LEFT JOIN {batch.stage_arrow(raw)} r USING (_ord, _origin_line)"
        )
    rows = []
    for page in exact:
        ord_ = ord_of[id(page)]
        for position, (text, value) in enumerate(page.items, start=1):
            if isinstance(value, dict):
                rows.append(_Row(ord_, position, value, text))
            else:
                stream.quarantine(ord_, position, text, f"not a JSON object: {text_value(value)}")
    _add_rows(stream, rows)


def _split_pages(
    pages: Sequence[Page], contract: StreamContract, items: StreamContract | None
) -> tuple[list[columns.ColumnPage], list[Page]]:
    """The pages the columnar path takes (with their arrays), and those taken exactly."""
    plain, exact = [], []
    for page in pages:
        column_page = columns.plain_page(page, is_orders=items is not None)
        if column_page is None:
            exact.append(page)
        else:
            plain.append(column_page)
    failed = columns.build_arrays(plain, contract, items) if plain else []
    exact += [p.page for p in failed]
    return [p for p in plain if p.array is not None], exact


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
    # Origins are numbered in the order the pages were read, whichever path a page takes.
    ords_by_page = {}
    for page in pages:
        ords = {"orders": orders.add_origin(page.request, read=len(page.objects))}
        for list_field, stream in children.items():
            read = sum(_list_length(value, list_field) for value in page.objects)
            ords[list_field] = stream.add_origin(page.request, read=read)
        ords_by_page[id(page)] = ords
    plain, exact = _split_pages(pages, orders.contract, children["items"].contract)
    if plain:
        ords = [ords_by_page[id(p.page)] for p in plain]
        _land_plain_orders(batch, orders, children, plain, ords)
    versions: list[_OrderVersion] = []
    for page in exact:
        ords = ords_by_page[id(page)]
        versions += [_split_order(ords, line, *item) for line, item in enumerate(page.items, 1)]
    if versions:
        _land_versions(orders, children, versions)


def _list_length(value: Any, list_field: str) -> int:
    """The rows an order version gives a child stream (none when its list is not a list)."""
    if not isinstance(value, dict):
        return 0
    entries = value.get(list_field)
    return len(entries) if isinstance(entries, list) else 0


def _land_plain_orders(
    batch: Batch,
    orders: StreamLanding,
    children: dict[str, StreamLanding],
    plain: Sequence[columns.ColumnPage],
    ords: Sequence[dict[str, int]],
) -> None:
    """Orders of pages held as columns: checked whole in SQL, the failing ones set aside."""
    contracts = {"orders": orders.contract} | {f: s.contract for f, s in children.items()}
    staged = columns.stage_orders(batch, columns.stage(batch, plain, ords), contracts)
    failing = batch.staging.execute(
        f"SELECT _ord, _origin_line, _why FROM {staged.failing} ORDER BY _ord, _origin_line"
    ).fetchall()
    by_ord = {o["orders"]: (o, p.page) for o, p in zip(ords, plain, strict=True)}
    failed_lines: dict[int, set[int]] = {}
    for ord_, line, reason in failing:
        failed_lines.setdefault(ord_, set()).add(line)
        page_ords, page = by_ord[ord_]
        version = _split_order(page_ords, line, *page.items[line - 1])
        _quarantine_version(orders, children, version, "; ".join([*version.problems, reason]))
    # Drift is what the landed versions carry, as on the exact path (codes add no keys).
    for page_ords, column_page in zip(ords, plain, strict=True):
        keys, item_keys = column_page.keys, column_page.item_keys
        lines = failed_lines.get(page_ords["orders"])
        if lines:
            kept = [v for line, v in enumerate(column_page.page.objects, 1) if line not in lines]
            keys = columns.keys_of(kept)
            item_keys = columns.keys_of(chain.from_iterable(value["items"] for value in kept))
        keys = [key for key in keys if key not in ORDER_LISTS]
        if keys:
            orders.check_columns(page_ords["orders"], keys, record_level=True)
        if item_keys:
            children["items"].check_columns(
                page_ords["items"], [*columns.PARENT_FIELDS, *item_keys], record_level=True
            )
    orders.add_rows(columns.kept_orders_sql(staged, None))
    for list_field, stream in children.items():
        stream.add_rows(columns.kept_orders_sql(staged, list_field))


def _land_versions(
    orders: StreamLanding, children: dict[str, StreamLanding], versions: list[_OrderVersion]
) -> None:
    """Check order versions split in Python against the contract; land or set aside each."""
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
        if version.problems:
            _quarantine_version(orders, children, version, "; ".join(version.problems))
        else:
            kept.append(version)
    _add_rows(orders, [_Row(v.ords["orders"], v.position, v.order, v.text) for v in kept])
    for list_field, stream in children.items():
        rows = [
            _Row(v.ords[list_field], v.position, row, None)
            for v in kept
            for row in v.children[list_field]
        ]
        _add_rows(stream, rows)


def _quarantine_version(
    orders: StreamLanding, children: dict[str, StreamLanding], version: _OrderVersion, reason: str
) -> None:
    """Set an order version aside whole: the order with its exact JSON, each child row."""
    orders.quarantine(version.ords["orders"], version.position, version.text, reason)
    for list_field, stream in children.items():
        for row in version.children[list_field]:
            stream.quarantine(
                version.ords[list_field],
                version.position,
                text_value(row),
                f"its order version is quarantined: {reason}",
            )
