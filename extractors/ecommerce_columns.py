"""API pages staged as columns in one pass, the contract checked as SQL over them.

The fast path of `ecommerce_rows`. A page's objects become one Arrow struct
array whose fields are all text (numbers keep the digits the API sent, see
`JsonNumber`); orders keep their `items` and `coupons` as lists, unnested by
DuckDB into the child tables. The whole-order contract check (the order's
fields, each item's, each code's) runs as one query, and only the versions it
sets aside are looked at again in Python, with their exact JSON.

A page the columns cannot hold exactly goes the exact path, object by object:
an entry that is not an object, a value that is neither text nor a number, an
order whose lists are not a list of objects and a list of codes, or a key
starting with `_` (the framework's own columns).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import pyarrow as pa

from extractors.contracts import StreamContract
from extractors.ecommerce_client import Page
from extractors.landing import Batch
from extractors.row_checks import reason_sql
from extractors.sinks import quote

ORDER_LISTS = ("items", "coupons")
PARENT_FIELDS = {"order_id": "order_id", "platform": "platform", "order_updated_at": "updated_at"}
"""Child row field: the order field it is copied from."""


def keys_of(objects: Iterable[dict[str, Any]]) -> list[str]:
    """Every key of the objects, in order of first appearance."""
    return list(dict.fromkeys(chain.from_iterable(objects)))


def _text_struct(names: Iterable[str]) -> pa.StructType:
    return pa.struct([(name, pa.string()) for name in names])


@dataclass
class ColumnPage:
    """A page its columns can hold: the page, its objects' keys, and (once built) its array."""

    page: Page
    keys: list[str]
    item_keys: list[str]
    array: pa.StructArray | None = None


def plain_page(page: Page, is_orders: bool) -> ColumnPage | None:
    """The page as a `ColumnPage`, or None when it needs the exact path."""
    objects = page.objects
    if any(type(value) is not dict for value in objects):
        return None
    keys = keys_of(objects)
    item_keys: list[str] = []
    if is_orders:
        for value in objects:
            items, codes = value.get("items"), value.get("coupons")
            if type(items) is not list or type(codes) is not list:
                return None
            if any(type(item) is not dict for item in items):
                return None
            if any(type(code) is not str for code in codes):
                return None  # a number is a `JsonNumber`: not a code
        item_keys = keys_of(chain.from_iterable(value["items"] for value in objects))
        if any(key in PARENT_FIELDS for key in item_keys):
            return None  # an item's own order_id would override its order's
    if any(key.startswith("_") for key in chain(keys, item_keys)):
        return None
    return ColumnPage(page, keys, item_keys)


def build_arrays(
    pages: Sequence[ColumnPage], contract: StreamContract, items: StreamContract | None
) -> list[ColumnPage]:
    """Convert each page to one struct type shared by the chunk; return the pages that do
    not convert (a value that is neither text nor a number) for the exact path."""
    names = [*contract.field_names, *chain.from_iterable(p.keys for p in pages)]
    names = [name for name in dict.fromkeys(names) if name not in ORDER_LISTS or items is None]
    fields = [(name, pa.string()) for name in names]
    if items is not None:
        own = [f for f in items.field_names if f not in PARENT_FIELDS]
        item_names = dict.fromkeys([*own, *chain.from_iterable(p.item_keys for p in pages)])
        fields += [
            ("items", pa.list_(_text_struct(item_names))),
            ("coupons", pa.list_(pa.string())),
        ]
    struct = pa.struct(fields)
    failed = []
    for column_page in pages:
        try:
            column_page.array = pa.array(column_page.page.objects, type=struct)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            failed.append(column_page)
    return failed


def stage(batch: Batch, pages: Sequence[ColumnPage], ords: Sequence[dict[str, int]]) -> str:
    """Stage the pages' arrays as one table: `_ord` per stream, `_origin_line`, the fields."""
    arrays = [p.array for p in pages]
    lines = [range(1, len(array) + 1) for array in arrays]
    columns: dict[str, pa.Array] = {}
    for stream_name in ords[0]:
        column = "_ord" if stream_name == "orders" or len(ords[0]) == 1 else f"_ord_{stream_name}"
        columns[column] = pa.array(
            list(
                chain.from_iterable(
                    [o[stream_name]] * len(a) for o, a in zip(ords, arrays, strict=True)
                )
            ),
            pa.int32(),
        )
    columns["_origin_line"] = pa.array(list(chain.from_iterable(lines)), pa.int64())
    objects = pa.concat_arrays(arrays)
    for field, values in zip(objects.type, objects.flatten(), strict=True):
        columns[field.name] = values
    return batch.stage_arrow(pa.table(columns))


def _checked(relation: str, contract: StreamContract) -> str:
    return (
        f"(SELECT *, {reason_sql(contract)} AS _why "
        f"FROM (SELECT *, CAST(NULL AS VARCHAR) AS _reason FROM {relation}))"
    )


def failing_rows(batch: Batch, staged: str, contract: StreamContract) -> list[tuple[int, int, str]]:
    """(origin number, line, reason) of each staged row that breaks the contract."""
    return batch.staging.execute(
        f"SELECT _ord, _origin_line, _why FROM {_checked(staged, contract)} "
        "WHERE _why IS NOT NULL ORDER BY _ord, _origin_line"
    ).fetchall()


@dataclass(frozen=True)
class StagedOrders:
    orders: str
    children: dict[str, str]
    """Staged child rows per list field (`items`, `coupons`), with `_order_ord` and `_index`."""
    failing: str
    """The order versions that break the contract: `_ord`, `_origin_line`, `_why`."""


def stage_orders(batch: Batch, staged: str, contracts: dict[str, StreamContract]) -> StagedOrders:
    """Unnest the staged orders into their items and codes and check each version whole."""
    parent = ", ".join(
        f"{quote(source)} AS {quote(name)}" for name, source in PARENT_FIELDS.items()
    )
    children = {}
    for list_field, element in (
        ("items", "unnest(_element)"),
        ("coupons", "_element AS coupon_code"),
    ):
        name = batch.temp_name(list_field)
        batch.staging.execute(
            f"CREATE TEMP TABLE {name} AS SELECT _ord_{list_field} AS _ord, _origin_line, "
            f"_order_ord, _index, {parent}, {element} FROM (SELECT *, _ord AS _order_ord, "
            f"unnest({list_field}) AS _element, generate_subscripts({list_field}, 1) AS _index "
            f"FROM {staged})"
        )
        children[list_field] = name
    reasons = [
        f"SELECT _ord, _origin_line, 0 AS _part, 0 AS _index, _why "
        f"FROM {_checked(staged, contracts['orders'])} WHERE _why IS NOT NULL"
    ]
    for part, (list_field, name) in enumerate(children.items(), start=1):
        reasons.append(
            f"SELECT _order_ord, _origin_line, {part}, _index, "
            f"'{list_field}[' || _index || ']: ' || _why "
            f"FROM {_checked(name, contracts[list_field])} WHERE _why IS NOT NULL"
        )
    failing = batch.temp_name("failing")
    batch.staging.execute(
        f"CREATE TEMP TABLE {failing} AS SELECT _ord, _origin_line, "
        "string_agg(_why, '; ' ORDER BY _part, _index) AS _why "
        f"FROM ({' UNION ALL '.join(reasons)}) GROUP BY _ord, _origin_line"
    )
    return StagedOrders(staged, children, failing)


def kept_orders_sql(staged: StagedOrders, list_field: str | None) -> str:
    """The staged rows of the versions that pass, for `add_rows` (orders, or a list's rows)."""
    if list_field is None:
        relation, owner = staged.orders, "_ord"
        dropped = ["items", "coupons", "_ord_items", "_ord_coupons"]
    else:
        relation, owner = staged.children[list_field], "_order_ord"
        dropped = ["_order_ord", "_index"]
    return (
        f"SELECT r.* EXCLUDE ({', '.join(dropped)}) FROM {relation} r ANTI JOIN {staged.failing} f "
        f"ON f._ord = r.{owner} AND f._origin_line = r._origin_line"
    )
