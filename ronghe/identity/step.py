"""The identity step: between dbt's staging/intermediate build and the unified models.

Reads the prepared evidence (`intermediate.int_member_records_unioned`,
`intermediate.int_member_contacts_observed`,
`intermediate.int_product_codes_observed`) and the ERP master
(`staging.stg_erp__items`), resolves members and product codes, and writes
schema `identity` in one transaction. The first run (and any run under a new
configuration) matches all records against each other; later runs read back
the normalised evidence of unchanged records from a cache and re-match only
the components of the blocking graph that changed evidence touches
(`incremental.py`), which reaches the same clusters as a full re-resolution.
The key registry carries the keys across runs.
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
from ronghe.identity.evidence import (
    FINGERPRINTS,
    blocks_frame,
    components,
    evidence_frame,
    fingerprints_of,
    oversized_keys,
    stage_fingerprints,
)
from ronghe.identity.incremental import SCOPE, Scope, plan_scope
from ronghe.identity.keys import assign_keys
from ronghe.identity.matching import match_members
from ronghe.identity.overrides import active_overrides, applicable, stamp_applied
from ronghe.identity.products import item_master, map_product_codes
from ronghe.identity.records import MemberRecord, RecordId, build_records
from ronghe.identity.registry import (
    delete_records,
    load_state,
    write_member_records,
    write_members,
    write_review_queue,
)
from ronghe.identity.schema import ensure_schema
from ronghe.identity.sku_registry import (
    load_fuzzy_results,
    write_fuzzy_results,
    write_sku_xref,
    write_unmapped_report,
)
from ronghe.identity.store import Warehouse, chunks, open_warehouse
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
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
    recalibrate: bool = False,
    full: bool = False,
) -> dict[str, Any]:
    """Run the identity step against the configured warehouse; a small summary for XCom."""
    settings = settings or load_settings()
    config = load_identity_config(settings.config_path)
    warehouse = open_warehouse(settings)
    try:
        ensure_schema(warehouse)
        return resolve_in(warehouse, config, now=now, recalibrate=recalibrate, full=full)
    finally:
        warehouse.close()


def resolve_in(
    warehouse: Warehouse,
    config: IdentityConfig,
    *,
    now: datetime | None = None,
    recalibrate: bool = False,
    full: bool = False,
) -> dict[str, Any]:
    """The identity step on an open warehouse whose `identity` schema exists.

    The estate-measured calibration is taken on the first run under a
    configuration (or with `recalibrate`) and reused afterwards. A run under
    a stored calibration re-matches only the components of the blocking graph
    whose evidence changed (`ronghe.identity.incremental`), which reaches the
    same clusters as a full re-resolution; `full` re-matches everything.
    """
    clock = time.monotonic()
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    run_id = f"identity-{now:%Y%m%dT%H%M%S%f}"
    _check_inputs(warehouse)
    stage_fingerprints(warehouse, INPUTS["member_records"], INPUTS["member_contacts"])
    stored = None if recalibrate else _stored_calibration(warehouse, config)
    rules = config.members
    scope = None
    if stored is not None and not full:
        scope = plan_scope(
            warehouse, config.config_hash, rules.max_block_size, INPUTS, rules.default_phone_region
        )
    if scope is None:
        records = build_records(
            _read(warehouse, "member_records"),
            _read(warehouse, "member_contacts"),
            rules.default_phone_region,
        )
    else:
        records = scope.records
    calibration = stored or calibrate(records, rules)
    record_ids = [record.record_id for record in records]
    index_of = {rid: index for index, rid in enumerate(record_ids)}
    overrides, skipped = applicable(active_overrides(warehouse), index_of)
    state = load_state(warehouse, None if scope is None else SCOPE)
    previous_keys = [state.current.get(rid, (None,))[0] for rid in record_ids]
    fingerprints = fingerprints_of(warehouse, None if scope is None else SCOPE)
    product_codes = _read(warehouse, "product_codes")
    items = _read(warehouse, "items")
    master = item_master(product_codes, items)
    fuzzy_digest = f"{config.config_hash}:{master.digest}"
    master.fuzzy_found.update(load_fuzzy_results(warehouse, fuzzy_digest))
    known_queries = set(master.fuzzy_found)
    mappings = map_product_codes(product_codes, items, config.products, master)

    summary: dict[str, Any] = {"run_id": run_id, "version": config.version}
    with warehouse.transaction():
        if scope is None:
            warehouse.execute("DELETE FROM identity.member_blocks")
            warehouse.append("identity.member_blocks", blocks_frame(records))
        else:
            delete_records(
                warehouse,
                "identity.member_blocks",
                [r.record_id for r in scope.changed] + scope.removed,
            )
            warehouse.append("identity.member_blocks", blocks_frame(scope.changed))
        placeholders = oversized_keys(warehouse, rules.max_block_size)
        outcome = match_members(records, overrides, rules, calibration, previous_keys, placeholders)
        assignment = assign_keys(
            record_ids,
            outcome.resolution.cluster_of,
            _age_order(records),
            {rid: value[0] for rid, value in state.current.items()},
            state.minted_at,
            state.anchors,
            state.issued,
        )
        members = write_members(
            warehouse, run_id, now, records, outcome.resolution, assignment, state, config
        )
        _write_evidence(warehouse, run_id, config, records, scope, placeholders, fingerprints)
        members["review_queue"] = write_review_queue(
            warehouse,
            run_id,
            now,
            outcome.resolution.review,
            records,
            None if scope is None else SCOPE,
        )
        stamp_applied(warehouse, outcome.resolution.overrides_applied, run_id, now)
        if scope is not None:
            members.update(_totals(warehouse))
            members["records_rematched"] = len(records)
            members["records_changed"] = len(scope.changed)
            members["records_removed"] = len(scope.removed)
        members["incremental"] = scope is not None
        members["overrides_applied"] = len(outcome.resolution.overrides_applied)
        members["overrides_skipped"] = len(skipped)
        members["placeholder_keys"] = len(placeholders)
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
        write_fuzzy_results(
            warehouse,
            fuzzy_digest,
            {q: hit for q, hit in master.fuzzy_found.items() if q not in known_queries},
        )
        products["unmapped_sales_value"] = round(
            write_unmapped_report(warehouse, run_id, mappings, product_codes), 2
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


def _age_order(records: list[MemberRecord]) -> list[int]:
    """Each record's rank by age (first seen, then id): which record anchors a new key."""
    age_rank = sorted(
        range(len(records)),
        key=lambda i: (
            records[i].first_seen or records[i].registered_at or datetime.max,
            records[i].record_id,
        ),
    )
    age_order = [0] * len(records)
    for rank, index in enumerate(age_rank):
        age_order[index] = rank
    return age_order


def _write_evidence(
    warehouse: Warehouse,
    run_id: str,
    config: IdentityConfig,
    records: list[MemberRecord],
    scope: Scope | None,
    placeholders: dict[str, int],
    fingerprints: dict[RecordId, str],
) -> None:
    """Refresh the evidence cache and dim_member's evidence for what this run re-matched."""
    if scope is None:
        write_member_records(warehouse, run_id, records)
        warehouse.execute("DELETE FROM identity.member_evidence")
    else:
        replaced = [r.record_id for r in scope.changed] + scope.removed
        write_member_records(warehouse, run_id, scope.changed, replaced)
        delete_records(
            warehouse, "identity.member_evidence", [r.record_id for r in records] + scope.removed
        )
    component_of = components(records, placeholders)
    for part in chunks(len(records)):
        warehouse.append(
            "identity.member_evidence",
            evidence_frame(
                records[part], component_of[part], fingerprints, config.config_hash, run_id
            ),
        )


def _totals(warehouse: Warehouse) -> dict[str, int]:
    """Records in the inputs and members they form, over the whole registry."""
    frame = warehouse.query(
        "SELECT count(*) AS records, count(DISTINCT x.member_key) AS members "
        f"FROM {FINGERPRINTS} f JOIN identity.member_xref x ON x.source_system = f.source_system "
        "AND x.source_record_id = f.source_record_id AND x.valid_to IS NULL"
    )
    return {"records": int(frame.iloc[0, 0]), "members": int(frame.iloc[0, 1])}


def _stored_calibration(warehouse: Warehouse, config: IdentityConfig) -> Calibration | None:
    frame = warehouse.query(
        "SELECT parameters FROM identity.calibration WHERE config_hash = ? "
        "ORDER BY calibrated_at DESC LIMIT 1",
        (config.config_hash,),
    )
    return None if frame.empty else calibration_from_json(str(frame.iloc[0, 0]))


def _check_inputs(warehouse: Warehouse) -> None:
    for relation in INPUTS.values():
        schema, table = relation.split(".")
        if not warehouse.relation_exists(schema, table):
            raise IdentityInputMissing(
                f"{relation} does not exist: build the staging and intermediate dbt models "
                "(`dbt build --select staging intermediate`) before the identity step"
            )


def _read(warehouse: Warehouse, name: str) -> pd.DataFrame:
    return warehouse.query(f"SELECT * FROM {INPUTS[name]}")
