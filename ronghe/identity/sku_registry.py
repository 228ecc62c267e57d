"""Writing the SKU crosswalk and its change log, and the unmapped-codes report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from ronghe.identity.products import SkuMapping
from ronghe.identity.store import Warehouse

UNMAPPED_COLUMNS = (
    "source_system", "product_code", "sku_key", "normalised_code", "sales_value",
    "sales_lines", "first_seen_at", "last_seen_at", "run_id",
)  # fmt: skip


def write_sku_xref(
    warehouse: Warehouse, run_id: str, now: datetime, mappings: Sequence[SkuMapping]
) -> dict[str, int]:
    """Replace the crosswalk with this run's mappings, logging every code whose key changed."""
    previous = warehouse.query("SELECT source_system, product_code, sku_key FROM identity.sku_xref")
    old_keys = {(str(r[0]), str(r[1])): str(r[2]) for r in previous.itertuples(index=False)}
    frame = pd.DataFrame(
        [
            (m.source_system, m.product_code, m.sku_key, m.item_no, m.matched_by,
             m.confidence, m.normalised_code, now, run_id)
            for m in mappings
        ],
        columns=[
            "source_system", "product_code", "sku_key", "item_no", "matched_by",
            "confidence", "normalised_code", "updated_at", "run_id",
        ],
    )  # fmt: skip
    changes = pd.DataFrame(
        [
            (now, run_id, m.source_system, m.product_code,
             old_keys.get((m.source_system, m.product_code)), m.sku_key, m.matched_by, m.confidence)
            for m in mappings
            if old_keys.get((m.source_system, m.product_code)) != m.sku_key
        ],
        columns=[
            "changed_at", "run_id", "source_system", "product_code", "old_sku_key",
            "new_sku_key", "matched_by", "confidence",
        ],
    )  # fmt: skip
    warehouse.execute("DELETE FROM identity.sku_xref")
    warehouse.append("identity.sku_xref", frame)
    warehouse.append("identity.sku_mapping_log", changes)
    mapped = sum(1 for m in mappings if m.item_no is not None)
    return {
        "codes": len(mappings),
        "mapped": mapped,
        "unmapped": len(mappings) - mapped,
        "key_changes": int((changes["old_sku_key"].notna()).sum()) if not changes.empty else 0,
    }


def write_unmapped_report(
    warehouse: Warehouse, run_id: str, mappings: Sequence[SkuMapping], codes: pd.DataFrame
) -> float:
    """Replace `identity.unmapped_product_codes`; returns the sales value at risk."""
    unmapped = pd.DataFrame(
        [
            (m.source_system, m.product_code, m.sku_key, m.normalised_code)
            for m in mappings
            if m.item_no is None
        ],
        columns=["source_system", "product_code", "sku_key", "normalised_code"],
    )
    report = unmapped.merge(
        codes[
            [
                "source_system",
                "product_code",
                "sales_value",
                "sales_lines",
                "first_seen_at",
                "last_seen_at",
            ]
        ],
        on=["source_system", "product_code"],
        how="left",
    )
    report["sales_value"] = pd.to_numeric(report["sales_value"]).fillna(0.0).astype("float64")
    report["sales_lines"] = pd.to_numeric(report["sales_lines"]).fillna(0).astype("int64")
    report["run_id"] = run_id
    warehouse.execute("DELETE FROM identity.unmapped_product_codes")
    warehouse.append("identity.unmapped_product_codes", report[list(UNMAPPED_COLUMNS)])
    return float(report["sales_value"].sum())


def load_fuzzy_results(warehouse: Warehouse, digest: str) -> dict[str, tuple[str, float] | None]:
    """Fuzzy listing matches found by earlier runs against the same item master and rules."""
    frame = warehouse.query(
        "SELECT query, item_no, score FROM identity.product_fuzzy_cache WHERE master_digest = ?",
        (digest,),
    )
    return {
        str(query): None if pd.isna(item_no) else (str(item_no), float(score))
        for query, item_no, score in frame.itertuples(index=False, name=None)
    }


def write_fuzzy_results(
    warehouse: Warehouse, digest: str, found: dict[str, tuple[str, float] | None]
) -> None:
    """Keep this run's new fuzzy results; results against another master are dropped."""
    warehouse.execute(
        "DELETE FROM identity.product_fuzzy_cache WHERE master_digest <> ?", (digest,)
    )
    frame = pd.DataFrame(
        [
            (digest, query, None if hit is None else hit[0], None if hit is None else hit[1])
            for query, hit in sorted(found.items())
        ],
        columns=["master_digest", "query", "item_no", "score"],
    ).astype({"score": "float64"})
    warehouse.append("identity.product_fuzzy_cache", frame)
