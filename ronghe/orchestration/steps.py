"""The transform DAG's Python steps: each calls one tested function with the task's settings.

They run inside Airflow tasks and return small JSON-ready summaries for XCom;
the heavy packages (Great Expectations, the identity engine) are imported
here, when a task runs, never when a DAG file is parsed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ronghe.audit.record import RUN_FINISHED, RUN_STARTED, record_run
from ronghe.orchestration.connections import task_settings

LANDED_QUALITY_LAYERS = ["raw", "staging"]

log = logging.getLogger(__name__)


def check_inputs(run_id: str, *, force: bool = False, full_refresh: bool = False) -> dict[str, Any]:
    """Decide whether this transform run rebuilds (see `ronghe.orchestration.fingerprint`).

    `full_refresh` (the dbt builds rebuild every incremental model from the
    raw layer) is kept in the decision, so the run record says so. A run
    that has nothing to rebuild keeps its run record here, since the
    tasks that would write it are skipped: it names the published run whose
    inputs are the current ones.
    """
    from ronghe.orchestration.fingerprint import decide

    record_run(task_settings(), run_id, RUN_STARTED, force=force, full_refresh=full_refresh)
    decision = {**decide(task_settings(), force=force).as_dict(), "full_refresh": full_refresh}
    log.info("%s", decision["reason"])
    if not decision["rebuild"]:
        write_run_record(run_id, {"check_inputs": decision})
    return decision


def check_landed(run_id: str) -> dict[str, Any]:
    """Blocking quality checks on the landed and staged data (raises QualityGateFailed)."""
    from ronghe.lineage.quality_events import emit_quality_lineage
    from ronghe.quality.runner import run_quality_gate

    settings = task_settings()
    try:
        return run_quality_gate(LANDED_QUALITY_LAYERS, settings, run_id)
    finally:  # a failed gate's verdicts are lineage too
        emit_quality_lineage(settings, run_id, LANDED_QUALITY_LAYERS)


def resolve_identity() -> dict[str, Any]:
    """Member and SKU keys for every customer record and product code."""
    from ronghe.identity import resolve
    from ronghe.lineage.identity_events import identity_lineage

    settings = task_settings()
    with identity_lineage(settings):
        return resolve(settings)


def publish(run_id: str, inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Audit the candidate marts and publish them (raises MartsNotPublished when refused).

    `inputs` is the fingerprint the run started from (`check_inputs`); it is
    recorded once the marts are published, so a later run with the same
    inputs has nothing to rebuild.
    """
    from ronghe.lineage.publish_events import emit_publish_lineage
    from ronghe.lineage.quality_events import emit_quality_lineage
    from ronghe.orchestration.fingerprint import InputFingerprint, record_fingerprint
    from ronghe.quality.publish import publish_marts
    from ronghe.quality.runner import quality_config

    settings = task_settings()
    audited = quality_config(settings)["quality"]["publish"]["gate_layers"]
    try:
        published = publish_marts(settings, run_id)
    finally:  # a refused publish's verdicts are lineage too
        emit_quality_lineage(settings, run_id, audited)
    emit_publish_lineage(settings, published)
    if inputs is not None:
        record_fingerprint(settings, run_id, InputFingerprint.from_dict(inputs))
    return published


def build_reports(run_id: str) -> dict[str, Any]:
    """The auditors' quality and lineage reports and the Great Expectations Data Docs site."""
    from ronghe.lineage.report import build_lineage_report
    from ronghe.quality.data_docs import build_data_docs
    from ronghe.quality.report import build_quality_report

    settings = task_settings()
    return {
        "quality_report": build_quality_report(settings, run_id)["report"],
        "data_docs": build_data_docs(settings, run_id)["index"],
        "lineage_report": build_lineage_report(settings)["report"],
    }


def run_record_path(home: Path, run_id: str) -> Path:
    """Where the record of one transform run is kept (the run id made file-name safe)."""
    return home / "reports" / "runs" / f"{re.sub(r'[^A-Za-z0-9_.+-]', '_', run_id)}.json"


def write_run_record(run_id: str, steps: Mapping[str, Any]) -> dict[str, Any]:
    """Keep what each step of a transform run reported, as one JSON file per run."""
    path = run_record_path(task_settings().home, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "run_id": run_id,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "steps": dict(steps),
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    outcome = "published" if "publish" in steps else "unchanged"
    record_run(task_settings(), run_id, RUN_FINISHED, outcome=outcome)
    return {"run_record": str(path)}
