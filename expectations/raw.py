"""Raw layer: what the extractors landed, checked against the source contract.

The column lists are written from CONTRACT.md (not read from the extractors),
so these suites check the extractors independently. Every raw table keeps the
source fields as text plus the landing metadata (`_batch_id`, `_origin`,
`_origin_line`, `_loaded_at`); the keys named here must never be null or
blank, because staging and lineage depend on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from expectations.checks import column_types, columns_present, has_rows, no_rows
from expectations.landing import rows_match_ledger
from ronghe.quality.spec import Check, Suite

LANDING_COLUMNS = ("_batch_id", "_origin", "_origin_line", "_loaded_at")
POS_DROP_COLUMNS = ("_store_code", "_business_date", "_delivery", "_vendor")
# Metadata columns the extractors type; source fields are text as they arrived
# (a few bookkeeping tables, such as pos_drops, type theirs: the checks cast).
TYPED_FAMILIES = {"_delivery": "integer", "_origin_line": "integer", "_loaded_at": "timestamp"}
TYPED_COLUMNS = frozenset(TYPED_FAMILIES)

# table -> (contract fields, key fields that must be present in every row)
RAW_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "erp_item": (
        (
            "item_no",
            "item_name",
            "series",
            "model",
            "category_l1",
            "category_l2",
            "brand",
            "barcode",
            "uom",
            "unit_cost",
            "status",
            "created_at",
            "updated_at",
        ),
        ("item_no",),
    ),
    "erp_store": (
        (
            "store_code",
            "store_name",
            "store_type",
            "dealer_code",
            "region",
            "province",
            "city",
            "county",
            "opened_on",
            "closed_on",
            "warehouse_code",
            "updated_at",
        ),
        ("store_code",),
    ),
    "erp_dealer": (
        (
            "dealer_code",
            "dealer_name",
            "tier",
            "registered_province",
            "registered_city",
            "updated_at",
        ),
        ("dealer_code",),
    ),
    "erp_price": (
        ("item_no", "channel", "list_price", "valid_from", "valid_to"),
        ("item_no", "channel", "valid_from"),
    ),
    "erp_sell_in": (
        ("doc_no", "dealer_code", "item_no", "qty", "unit_price", "shipped_on", "updated_at"),
        ("doc_no",),
    ),
    "erp_campaign": (
        ("campaign_id", "name", "tag", "channel", "starts_at", "ends_at", "marketing_cost"),
        ("campaign_id",),
    ),
    "erp_deleted": (("table_name", "pk", "deleted_at"), ("table_name", "pk")),
    "pos_transactions": (
        (
            "txn_id",
            "store_code",
            "till_no",
            "cashier_id",
            "txn_time",
            "member_card_no",
            "member_phone",
            "payment_method",
            "total_amount",
            "txn_type",
            "orig_txn_id",
            "ecom_order_id",
            *POS_DROP_COLUMNS,
        ),
        ("txn_id", "store_code", "txn_time", "txn_type", *POS_DROP_COLUMNS),
    ),
    "pos_lines": (
        (
            "txn_id",
            "line_no",
            "barcode",
            "qty",
            "unit_price",
            "discount_amount",
            "coupon_code",
            *POS_DROP_COLUMNS,
        ),
        ("txn_id", "line_no", "qty", *POS_DROP_COLUMNS),
    ),
    "pos_members": (
        (
            "member_card_no",
            "name",
            "phone",
            "gender",
            "birth_date",
            "registered_store",
            "registered_at",
            *POS_DROP_COLUMNS,
        ),
        ("member_card_no", *POS_DROP_COLUMNS),
    ),
    "pos_drops": (
        ("store_code", "business_date", "delivery", "vendor"),
        ("store_code", "business_date", "delivery", "vendor"),
    ),
    "wms_items": (
        ("wms_sku", "barcode", "item_no", "description", "updated_at"),
        ("wms_sku", "updated_at"),
    ),
    "wms_snapshots": (
        (
            "snapshot_date",
            "warehouse_code",
            "warehouse_tier",
            "wms_sku",
            "on_hand",
            "allocated",
            "in_transit",
        ),
        ("snapshot_date", "warehouse_code", "wms_sku", "on_hand"),
    ),
    "wms_movements": (
        (
            "movement_id",
            "moved_at",
            "warehouse_code",
            "wms_sku",
            "qty",
            "movement_type",
            "ref_type",
            "ref_id",
        ),
        ("movement_id", "moved_at", "warehouse_code", "wms_sku", "qty"),
    ),
    "wms_shipments": (
        (
            "shipment_id",
            "ecom_order_id",
            "warehouse_code",
            "carrier",
            "tracking_no",
            "shipped_at",
            "delivered_at",
            "status",
        ),
        ("shipment_id", "ecom_order_id"),
    ),
    "ecom_orders": (
        (
            "order_id",
            "platform",
            "buyer_id",
            "buyer_phone",
            "buyer_email",
            "buyer_name",
            "union_id",
            "created_at",
            "updated_at",
            "status",
            "fulfilment",
            "store_code",
            "province",
            "city",
            "campaign_id",
            "paid_amount",
            "shipping_fee",
        ),
        ("order_id", "platform", "created_at", "updated_at", "status"),
    ),
    "ecom_order_items": (
        (
            "order_id",
            "platform",
            "order_updated_at",
            "line_id",
            "platform_sku",
            "qty",
            "unit_price",
            "discount",
        ),
        ("order_id", "platform", "order_updated_at", "line_id", "platform_sku", "qty"),
    ),
    "ecom_order_coupons": (
        ("order_id", "platform", "order_updated_at", "coupon_code"),
        ("order_id", "platform", "order_updated_at", "coupon_code"),
    ),
    "ecom_customers": (
        (
            "buyer_id",
            "platform",
            "phone",
            "email",
            "name",
            "union_id",
            "registered_at",
            "updated_at",
        ),
        ("buyer_id", "platform", "updated_at"),
    ),
    "ecom_listings": (
        ("platform_sku", "platform", "barcode", "seller_sku", "title", "updated_at"),
        ("platform_sku", "platform"),
    ),
    "ecom_coupons": (
        (
            "coupon_code",
            "campaign_id",
            "issued_platform",
            "buyer_id",
            "issued_at",
            "expires_at",
            "updated_at",
        ),
        ("coupon_code",),
    ),
}

# Tables with one row per delivery rather than per source line (no `_origin_line`).
PER_ORIGIN = frozenset({"pos_drops"})
# Tables a source may legitimately leave empty (no hard deletes yet, no
# registrations in the window); their other checks still run.
MAY_BE_EMPTY = frozenset({"erp_deleted", "pos_members", "ecom_order_coupons", "wms_shipments"})


def _required_values(table: str, keys: tuple[str, ...]) -> Check:
    """One scan for every value a row cannot do without: its keys and its lineage."""
    lineage = tuple(c for c in LANDING_COLUMNS if not (c == "_origin_line" and table in PER_ORIGIN))
    columns = (*lineage, *(key for key in keys if key not in lineage))
    missing = " or ".join(
        f"{column} is null"
        if column in TYPED_COLUMNS
        else f"coalesce(trim(cast({column} as varchar)), '') = ''"
        for column in columns
    )
    shown = ", ".join(dict.fromkeys(("_origin", "_origin_line", *columns)))
    return no_rows(
        "required_values_present",
        "required",
        f"select {shown} from {{batch}} where {missing}",
        f"Every row of raw.{table} has its keys ({', '.join(keys)}) and its lineage "
        f"({', '.join(lineage)}) filled in; staging and lineage depend on them.",
    )


def _first_deliveries_arrived() -> Check:
    """A store-day landed only as a re-send whose first delivery was never read.

    Every complete drop holds `transactions.csv` (CONTRACT.md section 2), so the
    first delivery was read if the registry knows its transactions file.
    """
    return no_rows(
        "first_deliveries_arrived",
        "completeness",
        """
        select drops.store_code, drops.business_date,
            min(cast(drops.delivery as integer)) as first_delivery_landed,
            min(drops._origin) as first_origin_landed
        from {batch} as drops
        left join ops.file_registry as files
            on files.path = 'pos/' || drops.store_code || '/'
                || replace(cast(drops.business_date as varchar), '-', '') || '/transactions.csv'
        group by drops.store_code, drops.business_date
        having min(cast(drops.delivery as integer)) > 1 and count(files.path) = 0
        """,
        "Every store-day's first POS delivery (`pos/<store>/<YYYYMMDD>/`) arrived complete; "
        "the store-days listed arrived only as a re-send, so the first delivery was abandoned "
        "half-written or lost on the way.",
    )


def _families(table: str, fields: tuple[str, ...]) -> dict[str, str]:
    """Source fields are text as they arrived; the landing metadata is typed."""
    if table in PER_ORIGIN:
        return {"_batch_id": "text", "_origin": "text", "_loaded_at": "timestamp"}
    families = dict.fromkeys((f for f in fields if f not in TYPED_COLUMNS), "text")
    families.update({"_batch_id": "text", "_origin": "text"})
    families.update({column: TYPED_FAMILIES[column] for column in TYPED_COLUMNS})
    return {
        column: family
        for column, family in families.items()
        if column in (*fields, *LANDING_COLUMNS)
    }


def _suite(table: str, fields: tuple[str, ...], keys: tuple[str, ...]) -> Suite:
    checks: list[Check] = [
        columns_present((*fields, *LANDING_COLUMNS), "the source contract"),
        column_types(_families(table, fields), "the raw layer's contract"),
    ]
    if table not in MAY_BE_EMPTY:
        checks.append(has_rows(why="the source delivered rows for this entity"))
    checks.append(_required_values(table, keys))
    conservation = rows_match_ledger(table)
    if conservation is not None:
        checks.append(conservation)
    if table == "pos_drops":
        checks.append(_first_deliveries_arrived())
    return Suite(layer="raw", schema="raw", table=table, checks=tuple(checks))


def suites(config: Mapping[str, Any]) -> list[Suite]:
    return [_suite(table, fields, keys) for table, (fields, keys) in RAW_TABLES.items()]
