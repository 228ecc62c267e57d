"""The tables of schema `identity`: the identity step's persistent state.

Created if missing, never dropped or rebuilt: keys, their history and the
steward's overrides must survive every run. Column types are the subset
DuckDB and PostgreSQL share; evidence is JSON text.
"""

from __future__ import annotations

from ronghe.identity.store import Warehouse

SCHEMA = "identity"

TABLES: dict[str, str] = {
    # One row per identity run: what ran, with which rules, and what it did.
    "runs": """
        run_id VARCHAR NOT NULL PRIMARY KEY,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        model_version VARCHAR NOT NULL,
        config_hash VARCHAR NOT NULL,
        summary VARCHAR
    """,
    # The estate-measured weights of evidence (ronghe/identity/calibration.py), kept per
    # configuration so every run weighs evidence the same way until recalibrated.
    "calibration": """
        config_hash VARCHAR NOT NULL,
        calibrated_at TIMESTAMP NOT NULL,
        run_id VARCHAR NOT NULL,
        parameters VARCHAR NOT NULL
    """,
    # Every member key ever issued; retired keys point to the key they merged into.
    "member_keys": """
        member_key VARCHAR NOT NULL PRIMARY KEY,
        status VARCHAR NOT NULL,
        merged_into VARCHAR,
        anchor_source_system VARCHAR NOT NULL,
        anchor_source_record_id VARCHAR NOT NULL,
        minted_at TIMESTAMP NOT NULL,
        minted_run_id VARCHAR NOT NULL,
        retired_at TIMESTAMP,
        retired_run_id VARCHAR
    """,
    # Source record -> member key, with history: valid_to is null for the current key.
    "member_xref": """
        source_system VARCHAR NOT NULL,
        source_record_id VARCHAR NOT NULL,
        member_key VARCHAR NOT NULL,
        matched_by VARCHAR NOT NULL,
        match_score DOUBLE PRECISION,
        valid_from TIMESTAMP NOT NULL,
        valid_to TIMESTAMP,
        run_id VARCHAR NOT NULL
    """,
    # The normalised evidence of each record as last resolved (dim_member's survivorship input).
    "member_records": """
        source_system VARCHAR NOT NULL,
        source_record_id VARCHAR NOT NULL,
        real_name VARCHAR,
        nickname VARCHAR,
        phone_e164 VARCHAR,
        phone_mask VARCHAR,
        email VARCHAR,
        union_id VARCHAR,
        gender VARCHAR,
        birth_date DATE,
        city VARCHAR,
        registered_at TIMESTAMP,
        first_seen_at TIMESTAMP,
        last_seen_at TIMESTAMP,
        run_id VARCHAR NOT NULL
    """,
    # The evidence cache (ronghe/identity/evidence.py): each record's normalised evidence,
    # the fingerprint of the input rows it came from, and its blocking-graph component.
    "member_evidence": """
        source_system VARCHAR NOT NULL,
        source_record_id VARCHAR NOT NULL,
        fingerprint VARCHAR NOT NULL,
        component VARCHAR NOT NULL,
        evidence VARCHAR NOT NULL,
        config_hash VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL
    """,
    # Each cached record's blocking keys: who shares a key with a changed record.
    "member_blocks": """
        block_key VARCHAR NOT NULL,
        source_system VARCHAR NOT NULL,
        source_record_id VARCHAR NOT NULL
    """,
    # Merges and splits of member keys: when, why, on what evidence, under which rules.
    "member_merge_log": """
        event_id VARCHAR NOT NULL PRIMARY KEY,
        event_at TIMESTAMP NOT NULL,
        run_id VARCHAR NOT NULL,
        event_type VARCHAR NOT NULL,
        member_key VARCHAR NOT NULL,
        other_key VARCHAR NOT NULL,
        records_moved INTEGER NOT NULL,
        record_ids VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        match_score DOUBLE PRECISION,
        evidence VARCHAR NOT NULL,
        model_version VARCHAR NOT NULL,
        config_hash VARCHAR NOT NULL
    """,
    # Borderline or contradictory pairs for a steward to decide (with an override).
    "review_queue": """
        left_source_system VARCHAR NOT NULL,
        left_source_record_id VARCHAR NOT NULL,
        right_source_system VARCHAR NOT NULL,
        right_source_record_id VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        probability DOUBLE PRECISION NOT NULL,
        reason VARCHAR NOT NULL,
        evidence VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        first_queued_at TIMESTAMP NOT NULL,
        last_run_id VARCHAR NOT NULL,
        closed_at TIMESTAMP
    """,
    # Steward decisions, applied by every run while ACTIVE.
    "overrides": """
        override_id VARCHAR NOT NULL PRIMARY KEY,
        action VARCHAR NOT NULL,
        left_source_system VARCHAR NOT NULL,
        left_source_record_id VARCHAR NOT NULL,
        right_source_system VARCHAR NOT NULL,
        right_source_record_id VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        requested_by VARCHAR NOT NULL,
        requested_at TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL,
        first_applied_at TIMESTAMP,
        first_applied_run_id VARCHAR,
        revoked_at TIMESTAMP
    """,
    # Product code as a source sends it -> SKU key.
    "sku_xref": """
        source_system VARCHAR NOT NULL,
        product_code VARCHAR NOT NULL,
        sku_key VARCHAR NOT NULL,
        item_no VARCHAR,
        matched_by VARCHAR NOT NULL,
        confidence DOUBLE PRECISION NOT NULL,
        normalised_code VARCHAR,
        updated_at TIMESTAMP NOT NULL,
        run_id VARCHAR NOT NULL
    """,
    # Every change of a product code's SKU key (an unmapped code mapping once the ERP knows it).
    "sku_mapping_log": """
        changed_at TIMESTAMP NOT NULL,
        run_id VARCHAR NOT NULL,
        source_system VARCHAR NOT NULL,
        product_code VARCHAR NOT NULL,
        old_sku_key VARCHAR,
        new_sku_key VARCHAR NOT NULL,
        matched_by VARCHAR NOT NULL,
        confidence DOUBLE PRECISION NOT NULL
    """,
    # Fuzzy listing matches (ronghe/identity/products.py) by query text, valid for one item
    # master and configuration (master_digest): a run only scores listings it has not seen.
    "product_fuzzy_cache": """
        master_digest VARCHAR NOT NULL,
        query VARCHAR NOT NULL,
        item_no VARCHAR,
        score DOUBLE PRECISION
    """,
    # Codes no ERP item could be found for yet, with the sales value riding on them.
    "unmapped_product_codes": """
        source_system VARCHAR NOT NULL,
        product_code VARCHAR NOT NULL,
        sku_key VARCHAR NOT NULL,
        normalised_code VARCHAR,
        sales_value DOUBLE PRECISION NOT NULL,
        sales_lines BIGINT NOT NULL,
        first_seen_at TIMESTAMP,
        last_seen_at TIMESTAMP,
        run_id VARCHAR NOT NULL
    """,
}


def ensure_schema(warehouse: Warehouse) -> None:
    """Create schema `identity` and any missing table or column; nothing is dropped.

    A table from an older version of this step gains the columns added
    since (nullable); existing rows and history stay as they are.
    """
    warehouse.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for name, columns in TABLES.items():
        warehouse.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{name} ({columns})")
        present = set(
            warehouse.query(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                (SCHEMA, name),
            )["column_name"]
        )
        for column, data_type in _columns(columns):
            if column not in present:
                warehouse.execute(f"ALTER TABLE {SCHEMA}.{name} ADD COLUMN {column} {data_type}")


def _columns(ddl: str) -> list[tuple[str, str]]:
    """(name, type) of each column in a TABLES entry, without constraints."""
    found = []
    for line in ddl.strip().splitlines():
        name, data_type = line.strip().rstrip(",").split(" ", 1)
        found.append((name, data_type.replace("NOT NULL", "").replace("PRIMARY KEY", "").strip()))
    return found
