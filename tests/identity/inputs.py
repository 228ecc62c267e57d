"""Seeding a real DuckDB warehouse with the identity step's input tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ronghe.identity.schema import ensure_schema
from ronghe.identity.store import DuckDBWarehouse
from tests.identity.builders import Rec, frames

ITEM_COLUMNS = ["item_no", "item_name", "series", "model", "barcode", "status"]
CODE_COLUMNS = [
    "source_system", "product_code", "barcode", "item_no_hint", "title",
    "sales_value", "sales_lines", "first_seen_at", "last_seen_at",
]  # fmt: skip


def seed(
    path: Path,
    recs: list[Rec],
    items: list[tuple] = (),
    codes: list[tuple] = (),
) -> None:
    """Replace the input tables with these records, ERP items and product codes."""
    registrations, contacts = frames(recs)
    registrations["birth_date"] = pd.to_datetime(registrations["birth_date"]).dt.date
    for column in ("registered_at", "updated_at"):
        registrations[column] = pd.to_datetime(registrations[column])
    for column in ("first_seen_at", "last_seen_at"):
        contacts[column] = pd.to_datetime(contacts[column])
    tables = {
        "intermediate.int_member_records_unioned": registrations,
        "intermediate.int_member_contacts_observed": contacts,
        "intermediate.int_product_codes_observed": pd.DataFrame(
            list(codes), columns=CODE_COLUMNS
        ).astype(
            {
                "sales_value": "float64",
                "sales_lines": "int64",
                "first_seen_at": "datetime64[us]",
                "last_seen_at": "datetime64[us]",
            }
        ),
        "staging.stg_erp__items": pd.DataFrame(list(items), columns=ITEM_COLUMNS).astype("string"),
    }
    warehouse = DuckDBWarehouse(str(path))
    try:
        warehouse.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
        warehouse.execute("CREATE SCHEMA IF NOT EXISTS staging")
        for name, frame in tables.items():
            warehouse.connection.register("_seed", frame)
            warehouse.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _seed")
            warehouse.connection.unregister("_seed")
        ensure_schema(warehouse)
    finally:
        warehouse.close()
