"""The identity step: between dbt's staging/intermediate build and the unified models.

Reads the prepared evidence (`intermediate.int_member_records_unioned`,
`intermediate.int_member_contacts_observed`,
`intermediate.int_product_codes_observed`) and the ERP master
(`staging.stg_erp__items`), resolves members and product codes, and writes
schema `identity` in one transaction. Every run matches all records against
each other from the evidence as it stands (linear in the data, seconds at
the demo's scale), so an incremental run and a full re-resolution reach the
same clusters; the key registry carries the keys across runs.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ronghe.identity.calibration import Calibration, calibrate
from ronghe.identity.calibration import from_json as calibration_from_json
from ronghe.identity.calibration import to_json as calibration_json
from ronghe.identity.config import IdentityConfig, load_identity_config
from ronghe.identity.keys import assign_keys
from ronghe.identity.matching import match_members
from ronghe.identity.overrides import active_overrides, applicable, stamp_applied
from ronghe.identity.products import map_product_codes
from ronghe.identity.records import build_records
from ronghe.identity.registry import (
    load_state,
    write_member_records,
    write_members,
    write_review_queue,
)
from ronghe.identity.schema import ensure_schema
from ronghe.identity.sku_registry import write_sku_xref, write_unmapped_report
from ronghe.identity.store import Warehouse, open_warehouse
from ronghe.settings import Settings, load_settings

INPUTS = {
    "member_records": "intermediate.int_member_records_unioned",
    "member_contacts": "intermediate.int_member_contacts_observed",
    "product_codes": "intermediate.int_product_codes_observed",
    "items": "staging.stg_erp__items",
}


class IdentityInputMissing(RuntimeError):
    """A table the identity step reads has not been built."""


def resolve(
    settings: Settings | None = None, *, now: datetime | None = None, recalibrate: bool = False
) -> dict[str, Any]:
    """Run the identity step against the configured warehouse; a small summary for XCom."""
    settings = settings or load_settings()
    config = load_identity_config(settings.config_path)
    warehouse = open_warehouse(settings)
    try:
        ensure_schema(warehouse)
        return resolve_in(warehouse, config, now=now, recalibrate=recalibrate)
    finally:
        warehouse.close()


def resolve_in(
    warehouse: Warehouse,
    config: IdentityConfig,
    *,
    now: datetime | None = None,
    recalibrate: bool = False,
) -> dict[str, Any]:
    """The identity step on an open warehouse whose `identity` schema exists.

    The estate-measured calibration is taken on the first run under a
    configuration (or with `recalibrate`) and reused afterwards.
    """
    clock = time.monotonic()
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    run_id = f"identity-{now:%Y%m%dT%H%M%S%f}"
    inputs = _read_inputs(warehouse)

    records = build_records(
        inputs["member_records"], inputs["member_contacts"], config.members.default_phone_region
    )
    record_ids = [record.record_id for record in records]
    index_of = {rid: index for index, rid in enumerate(record_ids)}
    overrides, skipped = applicable(active_overrides(warehouse), index_of)
    stored = None if recalibrate else _stored_calibration(warehouse, config)
    calibration = stored or calibrate(records, config.members)
    state = load_state(warehouse)
    previous_keys = [state.current.get(rid, (None,))[0] for rid in record_ids]
    outcome = match_members(records, overrides, config.members, calibration, previous_keys)
    age_rank = sorted(
        range(len(records)),
        key=lambda i: (
            records[i].first_seen or records[i].registered_at or datetime.max,
            record_ids[i],
        ),
    )
    age_order = [0] * len(records)
    for rank, index in enumerate(age_rank):
        age_order[index] = rank
    assignment = assign_keys(
        record_ids,
        outcome.resolution.cluster_of,
        age_order,
        {rid: value[0] for rid, value in state.current.items()},
        state.minted_at,
        state.anchors,
    )
    mappings = map_product_codes(inputs["product_codes"], inputs["items"], config.products)

    summary: dict[str, Any] = {"run_id": run_id, "version": config.version}
    with warehouse.transaction():
        members = write_members(
            warehouse, run_id, now, records, outcome.resolution, assignment, state, config
        )
        write_member_records(warehouse, run_id, records)
        members["review_queue"] = write_review_queue(
            warehouse, run_id, now, outcome.resolution.review, records
        )
        stamp_applied(warehouse, outcome.resolution.overrides_applied, run_id, now)
        members["overrides_applied"] = len(outcome.resolution.overrides_applied)
        members["overrides_skipped"] = len(skipped)
        members["placeholder_keys"] = len(outcome.placeholder_keys)
        if stored is None:
            warehouse.append(
                "identity.calibration",
                pd.DataFrame(
                    [(config.config_hash, now, run_id, calibration_json(calibration))],
                    columns=["config_hash", "calibrated_at", "run_id", "parameters"],
                ),
            )
        members["calibrated_this_run"] = stored is None
        products = write_sku_xref(warehouse, run_id, now, mappings)
        products["unmapped_sales_value"] = round(
            write_unmapped_report(warehouse, run_id, mappings, inputs["product_codes"]), 2
        )
        summary.update(members=members, products=products)
        summary["seconds"] = round(time.monotonic() - clock, 2)
        finished = datetime.now(UTC).replace(tzinfo=None)
        run_row = {
            "run_id": run_id,
            "started_at": now,
            "finished_at": finished,
            "model_version": config.model_version,
            "config_hash": config.config_hash,
            "summary": json.dumps(summary, default=str),
        }
        warehouse.append("identity.runs", pd.DataFrame([run_row]))
    return summary


def _stored_calibration(warehouse: Warehouse, config: IdentityConfig) -> Calibration | None:
    frame = warehouse.query(
        "SELECT parameters FROM identity.calibration WHERE config_hash = ? "
        "ORDER BY calibrated_at DESC LIMIT 1",
        (config.config_hash,),
    )
    return None if frame.empty else calibration_from_json(str(frame.iloc[0, 0]))


def _read_inputs(warehouse: Warehouse) -> dict[str, pd.DataFrame]:
    frames = {}
    for name, relation in INPUTS.items():
        schema, table = relation.split(".")
        if not warehouse.relation_exists(schema, table):
            raise IdentityInputMissing(
                f"{relation} does not exist: build the staging and intermediate dbt models "
                "(`dbt build --select staging intermediate`) before the identity step"
            )
        frames[name] = warehouse.query(f"SELECT * FROM {relation}")
    return frames
