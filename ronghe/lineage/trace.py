"""Record-level provenance: from a mart figure or an order back to the source rows.

Every counted sales line (`unified.fct_order_lines`) keeps the `_batch_id`,
`_origin` and `_origin_line` of the raw row it was built from. A trace
follows them back into the raw layer and names, for each line, the source
system, the file and physical line, the ERP table row or the API request and
position, and the landing batch; then it recomputes the mart row's figures
from the lines it found, so the auditor sees that they add up.

Works on the DuckDB file and on PostgreSQL (portable SQL through SQLAlchemy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PUBLISHED_SCHEMA = "marts"

# The figures of a mart_sales_daily row, recomputed from its lines the way the
# mart defines them (dbt_project/models/marts/_marts__docs.md).
SALES_DAILY_FIGURES = (
    "orders",
    "units",
    "returned_units",
    "gross_sales",
    "discounts",
    "returns",
    "net_sales",
)

LINE_COLUMNS = (
    "order_line_key",
    "order_key",
    "source_system",
    "order_scope",
    "order_id",
    "line_id",
    "line_type",
    "ordering_channel_code",
    "store_code",
    "event_local_date",
    "qty",
    "gross_amount",
    "discount_amount",
    "net_amount",
    "_batch_id",
    "_origin",
    "_origin_line",
)


class TraceError(LookupError):
    """What was asked for is not in the warehouse (no such mart row or order)."""


@dataclass(frozen=True)
class SourceRecord:
    """One raw row behind an order line, where it came from and what it said."""

    role: str
    """What the row is to the line: `line`, `transaction header`, `order version`."""
    raw_table: str
    batch_id: str
    origin: str
    """A path under SOURCES_DIR, `erp/<table>`, or the API request."""
    origin_line: int
    """Physical line in the file (header = 1), or position in the API page / ERP pull."""
    fields: dict[str, Any]
    """The row's source fields as landed (VARCHAR, untouched)."""

    def location(self, sources_dir: Path | None) -> str:
        if self.origin.startswith("GET "):
            return f"API request `{self.origin}`, object {self.origin_line} of the page"
        if self.origin.startswith("erp/"):
            return f"ERP table `{self.origin[4:]}`, row {self.origin_line} of the pull"
        path = sources_dir / self.origin if sources_dir else Path(self.origin)
        return f"file {path}, line {self.origin_line}"


@dataclass
class TracedLine:
    """A counted order line and the source rows it was built from."""

    line: dict[str, Any]
    records: list[SourceRecord] = field(default_factory=list)


@dataclass
class Trace:
    """The answer to one trace: what was asked, the lines behind it, whether they add up."""

    subject: str
    row: dict[str, Any] | None
    lines: list[TracedLine]
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    """figure -> {mart, from_lines, matches} for a mart row."""

    @property
    def reconciles(self) -> bool:
        return all(check["matches"] for check in self.figures.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "row": self.row,
            "figures": self.figures,
            "reconciles": self.reconciles,
            "lines": [
                {"line": traced.line, "records": [asdict(r) for r in traced.records]}
                for traced in self.lines
            ],
        }


def _rows(connection: sa.Connection, sql: str, params: Mapping[str, Any]) -> list[dict]:
    return [dict(row._mapping) for row in connection.execute(sa.text(sql), dict(params))]


def sales_daily_rows(
    connection: sa.Connection,
    sales_date: str,
    channel_code: str,
    store_code: str | None,
    schema: str = PUBLISHED_SCHEMA,
) -> list[dict[str, Any]]:
    """The mart_sales_daily rows of one date, channel and store (None: no store)."""
    return _rows(
        connection,
        f"select * from {schema}.mart_sales_daily "
        "where cast(sales_date as date) = cast(:sales_date as date) "
        "and channel_code = :channel_code "
        "and store_code is not distinct from :store_code "
        "order by sales_daily_key",
        {"sales_date": sales_date, "channel_code": channel_code, "store_code": store_code},
    )


def _select_lines(where: str) -> str:
    columns = ", ".join(f"order_lines.{column}" for column in LINE_COLUMNS)
    return (
        f"select {columns} from unified.fct_order_lines as order_lines "
        "left join unified.dim_store as stores "
        "on order_lines.store_version_key = stores.store_version_key "
        f"where {where} "
        "order by order_lines.source_system, order_lines.order_scope, order_lines.order_id, "
        "order_lines.line_id, order_lines.line_type"
    )


def lines_of_sales_daily_row(connection: sa.Connection, row: Mapping[str, Any]) -> list[dict]:
    """The fact lines a mart_sales_daily row adds up (its grouping, as the mart groups)."""
    return _rows(
        connection,
        _select_lines(
            "order_lines.event_local_date = :sales_date "
            "and order_lines.ordering_channel_code = :channel_code "
            "and order_lines.store_code is not distinct from :store_code "
            "and stores.store_type is not distinct from :store_type "
            "and stores.region is not distinct from :region"
        ),
        {
            key: row[key]
            for key in ("sales_date", "channel_code", "store_code", "store_type", "region")
        },
    )


def lines_of_order(
    connection: sa.Connection, source_system: str, order_id: str, order_scope: str | None
) -> list[dict]:
    """The fact lines of one order (a till transaction or an online order)."""
    scope = "and order_lines.order_scope = :order_scope" if order_scope else ""
    return _rows(
        connection,
        _select_lines(
            f"order_lines.source_system = :source_system "
            f"and order_lines.order_id = :order_id {scope}"
        ),
        {"source_system": source_system, "order_id": order_id, "order_scope": order_scope},
    )


def _raw_rows(
    connection: sa.Connection, table: str, where: str, params: Mapping[str, Any]
) -> list[dict]:
    return _rows(connection, f"select * from raw.{table} where {where}", params)


@cache
def _personal_columns(table: str) -> dict[str, str]:
    """Column -> personal-data category of a raw table, as the dbt sources classify them."""
    from ronghe.privacy.catalog import classification_of, load_classification

    declared = classification_of(load_classification(), "raw", table)
    return {column: c.category or "personal" for column, c in declared.items() if c.pii}


# The record ids a trace follows (a card number, a buyer id) are shown: they are
# what the auditor traces. Every other personal field stays in its room.
SHOWN_PERSONAL_CATEGORIES = frozenset({"customer_id"})


def _shown(table: str, column: str, value: Any) -> Any:
    """A raw value as a trace shows it: personal data is named, not shown."""
    from ronghe.privacy.catalog import looks_personal

    category = _personal_columns(table).get(column) or looks_personal(column)
    if value is None or category is None or category in SHOWN_PERSONAL_CATEGORIES:
        return value
    return f"({category}, withheld)"


def _record(role: str, table: str, row: Mapping[str, Any]) -> SourceRecord:
    fields = {
        key: _shown(table, key, value)
        for key, value in row.items()
        if not key.startswith("_") or key in ("_store_code", "_business_date", "_delivery")
    }
    return SourceRecord(
        role=role,
        raw_table=f"raw.{table}",
        batch_id=row["_batch_id"],
        origin=row["_origin"],
        origin_line=int(row["_origin_line"]),
        fields=fields,
    )


def source_records(connection: sa.Connection, line: Mapping[str, Any]) -> list[SourceRecord]:
    """The raw rows behind one fact line: its own row, then its document's header row."""
    where = "_batch_id = :batch_id and _origin = :origin and _origin_line = :origin_line"
    params = {
        "batch_id": line["_batch_id"],
        "origin": line["_origin"],
        "origin_line": line["_origin_line"],
    }
    if line["source_system"] == "POS":
        records = [
            _record("line", "pos_lines", r)
            for r in _raw_rows(connection, "pos_lines", where, params)
        ]
        # The transaction header sits in the same delivery folder.
        header_origin = str(line["_origin"]).rsplit("/", 1)[0] + "/transactions.csv"
        headers = _raw_rows(
            connection,
            "pos_transactions",
            "_batch_id = :batch_id and _origin = :origin and txn_id = :txn_id",
            {"batch_id": line["_batch_id"], "origin": header_origin, "txn_id": line["order_id"]},
        )
        return records + [_record("transaction header", "pos_transactions", r) for r in headers]
    if line["source_system"] == "ECOMMERCE":
        # One API object (an order version) carries all its items: the item is
        # the row of that object with the line's id.
        items = _raw_rows(
            connection,
            "ecom_order_items",
            f"{where} and line_id = :line_id",
            {**params, "line_id": line["line_id"]},
        )
        orders = _raw_rows(connection, "ecom_orders", where, params)
        return [_record("line", "ecom_order_items", r) for r in items] + [
            _record("order version", "ecom_orders", r) for r in orders
        ]
    raise TraceError(f"no raw tables known for source system {line['source_system']!r}")


def recompute_sales_daily(lines: Sequence[Mapping[str, Any]]) -> dict[str, Decimal]:
    """A mart_sales_daily row's figures, recomputed from its fact lines."""
    sales = [line for line in lines if line["line_type"] == "SALE"]
    returns = [line for line in lines if line["line_type"] == "RETURN"]
    gross = sum((Decimal(line["gross_amount"]) for line in sales), Decimal(0))
    discounts = sum((Decimal(line["discount_amount"]) for line in sales), Decimal(0))
    returned = -sum((Decimal(line["net_amount"]) for line in returns), Decimal(0))
    return {
        "orders": Decimal(len({line["order_key"] for line in sales})),
        "units": sum((Decimal(line["qty"]) for line in sales), Decimal(0)),
        "returned_units": -sum((Decimal(line["qty"]) for line in returns), Decimal(0)),
        "gross_sales": gross,
        "discounts": discounts,
        "returns": returned,
        "net_sales": gross - discounts - returned,
    }


def _traced(connection: sa.Connection, lines: list[dict]) -> list[TracedLine]:
    return [TracedLine(line=line, records=source_records(connection, line)) for line in lines]


def trace_sales_daily(
    connection: sa.Connection,
    sales_date: str,
    channel_code: str,
    store_code: str | None,
    schema: str = PUBLISHED_SCHEMA,
) -> list[Trace]:
    """Trace each mart_sales_daily row of a date, channel and store to its source rows."""
    rows = sales_daily_rows(connection, sales_date, channel_code, store_code, schema)
    if not rows:
        raise TraceError(
            f"{schema}.mart_sales_daily has no row for {sales_date}, channel {channel_code}, "
            f"store {store_code or '(none)'}"
        )
    traces = []
    for row in rows:
        lines = lines_of_sales_daily_row(connection, row)
        recomputed = recompute_sales_daily(lines)
        figures = {
            name: {
                "mart": row[name],
                "from_lines": recomputed[name],
                "matches": Decimal(row[name]) == recomputed[name],
            }
            for name in SALES_DAILY_FIGURES
        }
        subject = (
            f"{schema}.mart_sales_daily {row['sales_date']} {row['channel_code']} "
            f"{row['store_code'] or '(no store)'} ({row['store_type']}, {row['region']})"
        )
        traces.append(Trace(subject, row, _traced(connection, lines), figures))
    return traces


def trace_order(
    connection: sa.Connection, source_system: str, order_id: str, order_scope: str | None
) -> Trace:
    """Trace one order's counted lines to their source rows."""
    lines = lines_of_order(connection, source_system, order_id, order_scope)
    if not lines:
        raise TraceError(
            f"unified.fct_order_lines has no counted line of {source_system} order {order_id}"
            + (f" in {order_scope}" if order_scope else "")
            + " (void, cancelled and unpaid orders are never counted)"
        )
    return Trace(f"{source_system} order {order_id}", None, _traced(connection, lines))


# Where each identity source system's customer records land in raw: the
# registration rows first; a card or buyer never registered in a delivered file
# or feed was seen on transactions or orders only.
_ONLINE_RECORDS = (
    ("ecom_customers", "platform = :system and buyer_id = :record_id"),
    ("ecom_orders", "platform = :system and buyer_id = :record_id"),
)
MEMBER_RECORD_TABLES = {
    "POS_MEMBER": (
        ("pos_members", "member_card_no = :record_id"),
        ("pos_transactions", "member_card_no = :record_id"),
    ),
    "MALL": _ONLINE_RECORDS,
    "TMALL": _ONLINE_RECORDS,
    "JD": _ONLINE_RECORDS,
}


@dataclass
class MemberTrace:
    """What happened to one member's records: the key's history, its records and their rows."""

    member_key: str
    key_history: list[dict[str, Any]]
    """`identity.member_keys` rows of the key (minted, merged into, retired)."""
    assignments: list[dict[str, Any]]
    """Every `identity.member_xref` row that gave a source record this key, open or closed."""
    merges: list[dict[str, Any]]
    """`identity.member_merge_log` events naming the key, with their reason and evidence."""
    records: list[SourceRecord]
    """The raw rows of each source record currently assigned to the key (personal data withheld)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "member_key": self.member_key,
            "key_history": self.key_history,
            "assignments": self.assignments,
            "merges": self.merges,
            "records": [asdict(record) for record in self.records],
        }


def trace_member(connection: sa.Connection, member_key: str) -> MemberTrace:
    """A member key's assignments, merges and the raw rows of its source records."""
    keys = _rows(
        connection,
        "select * from identity.member_keys where member_key = :key",
        {"key": member_key},
    )
    assignments = _rows(
        connection,
        "select source_system, source_record_id, matched_by, match_score, valid_from, valid_to, "
        "run_id from identity.member_xref where member_key = :key "
        "order by valid_from, source_system, source_record_id",
        {"key": member_key},
    )
    if not keys and not assignments:
        raise TraceError(f"identity.member_xref has never assigned member key {member_key}")
    merges = _rows(
        connection,
        "select event_at, event_type, member_key, other_key, records_moved, reason, match_score, "
        "evidence, run_id from identity.member_merge_log "
        "where member_key = :key or other_key = :key order by event_at",
        {"key": member_key},
    )
    records: list[SourceRecord] = []
    for assignment in assignments:
        if assignment["valid_to"] is not None:
            continue
        system = assignment["source_system"]
        for table, where in MEMBER_RECORD_TABLES[system]:
            rows = _raw_rows(
                connection,
                table,
                f"{where} order by _loaded_at, _origin, _origin_line",
                {"system": system, "record_id": assignment["source_record_id"]},
            )
            records += [_record(f"{system} record", table, row) for row in rows]
            if rows:
                break
    return MemberTrace(member_key, keys, assignments, merges, records)
