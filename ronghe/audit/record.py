"""The entries each audited action appends, named in one place.

Pipeline actions (runs, publishes) are done by `ronghe-pipeline`; steward
overrides and erasures by the person the command names. Each function appends
inside the transaction the action already holds, except the run entries, which
are their own small transaction (a run is not one warehouse transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ronghe.audit.log import append

PIPELINE_ACTOR = "ronghe-pipeline"
RUN_STARTED = "run.started"
RUN_FINISHED = "run.finished"
PUBLISHED = "publish.published"
PUBLISH_REFUSED = "publish.refused"
OVERRIDE_RECORDED = "override.recorded"
OVERRIDE_REVOKED = "override.revoked"
ERASURE = "erasure.completed"


def record_run(settings: Any, run_id: str, action: str, **details: Any) -> dict[str, Any]:
    """A run started or finished, with the code version and configuration hash it ran."""
    from extractors.sinks import sink_transaction
    from ronghe.lineage.run_context import code_version, config_hash

    details = {"code_version": code_version(), "config_hash": config_hash(settings), **details}
    with sink_transaction(settings.warehouse, "audit") as sink:
        return append(sink, action, actor=PIPELINE_ACTOR, run_id=run_id, details=details)


def record_publish(connection: Any, decision: Mapping[str, Any]) -> dict[str, Any]:
    """A publish decision as `ops.publish_log` records it: published, refused or failed."""
    published = decision["status"] == "published"
    return append(
        connection,
        PUBLISHED if published else PUBLISH_REFUSED,
        actor=PIPELINE_ACTOR,
        run_id=decision["run_id"],
        subject=decision["publish_id"],
        details={
            "status": decision["status"],
            "data_version": decision["data_version"],
            "tables": decision["tables"],
            "failed_rules": list(decision["failed_rules"] or []),
            "message": decision["message"],
        },
    )


def record_override(
    warehouse: Any, event: str, override_id: str, actor: str, /, **details: Any
) -> dict[str, Any]:
    """A steward override recorded or revoked; the record ids stay in `identity.overrides`."""
    return append(warehouse, event, actor=actor, subject=override_id, details=details)


def record_erasure(sink: Any, erasure_id: str, requested_by: str, subject_kind: str) -> None:
    """An erasure, by its id in `ops.privacy_erasures`; never the person's data."""
    append(
        sink,
        ERASURE,
        actor=requested_by,
        subject=erasure_id,
        details={"register": "ops.privacy_erasures", "subject_kind": subject_kind},
    )
