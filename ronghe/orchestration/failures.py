"""What a failed task tells the person on call, and which failures are worth retrying.

`FailureReport` is every Ronghe task's `on_failure_callback`. It writes one
message that says what failed (DAG, task, run, try, the error), where to look
(the task log file and its page in the Airflow UI) and which warehouse tables
the task works on, to the task log and as one JSON line to
`RONGHE_HOME/logs/task_failures.jsonl` (which `ronghe run` prints, and a log
shipper can forward to an alerting channel).

`RongheRetryPolicy` keeps retries for what a retry can fix (a warehouse held
by a BI tool, an unreachable source) and fails at once on verdicts a retry
would only repeat (blocking quality checks, a refused publish, a broken
contract file). Exceptions are matched by class path so the DAG files need
not import the packages that define them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import RetryPolicy
from airflow.sdk.definitions.retry_policy import RetryDecision

from ronghe.audit.record import RUN_FINISHED, record_run

log = logging.getLogger(__name__)

FAILURES_FILE_NAME = "task_failures.jsonl"

# Verdicts about the data or the code: the same input gives the same answer.
NOT_RETRYABLE = {
    "ronghe.quality.runner.QualityGateFailed": "blocking quality checks failed",
    "ronghe.quality.publish.MartsNotPublished": "the publish was refused",
    "ronghe.identity.step.IdentityInputMissing": "a table the identity step reads is missing",
    "ronghe.orchestration.dbt_manifest.ManifestMissingError": "the dbt manifest is missing",
    "ronghe.orchestration.transform.NotTheBuildError": "only the group's build task runs dbt",
    "extractors.contracts.ContractError": "a source contract file is malformed",
    "extractors.errors.LedgerImbalanceError": "a batch's ledger did not balance",
    "extractors.errors.RejectedDeliveriesError": "deliveries were rejected at the boundary",
}
# Another process holds the DuckDB file; it may let go before the next try.
WAREHOUSE_LOCKED = "ronghe.warehouse.WarehouseLockedError"

# Where to look next, by the error's class path.
NEXT_STEPS = {
    WAREHOUSE_LOCKED: (
        "Close the process named above (BI tools read the serving copy marts.duckdb, not the "
        "warehouse), then clear the task: the run is safe to repeat."
    ),
    "ronghe.quality.runner.QualityGateFailed": (
        "Read the failed rules and sample rows above; the evidence is in ops.dq_results and "
        "ops.dq_failing_rows for this run id. The published marts were not touched."
    ),
    "ronghe.quality.publish.MartsNotPublished": (
        "The last good marts stay published. Fix the data or the rule, then clear the task."
    ),
    "extractors.errors.RejectedDeliveriesError": (
        "The rejected deliveries are in ops.rejected_deliveries with their reason; everything "
        "else of the batch was committed."
    ),
}


def class_paths(error: BaseException) -> list[str]:
    """`module.Class` of the error's class and of every base class, most specific first."""
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in type(error).__mro__]


class RongheRetryPolicy(RetryPolicy):
    """Retry what a retry can fix, with the task's exponential backoff; fail verdicts at once."""

    def evaluate(
        self,
        exception: BaseException,
        try_number: int,
        max_tries: int,
        context: Any = None,
    ) -> RetryDecision:
        for path in class_paths(exception):
            if path in NOT_RETRYABLE:
                return RetryDecision.fail(f"not retried: {NOT_RETRYABLE[path]}")
        return RetryDecision.default()


def task_log_file(ti: Any) -> str | None:
    """The task's local log file, as Airflow's file task handler names it."""
    try:
        import jinja2
        from airflow.sdk.configuration import conf

        folder = conf.get("logging", "base_log_folder")
        template = conf.get("logging", "log_filename_template")
        name = jinja2.Template(template).render(ti=ti, try_number=ti.try_number)
    except Exception:  # the message must go out even if the log location cannot be told
        log.warning("could not tell the log file of %s", getattr(ti, "task_id", "?"), exc_info=True)
        return None
    path = Path(folder) / name
    # `dag.test()` (`ronghe run`) logs to its own output instead of per-task files.
    return str(path) if path.exists() else None


def describe_failure(context: Mapping[str, Any], tables: Sequence[str]) -> dict[str, Any]:
    """The facts of a failed task instance, as one JSON-ready dict."""
    ti = context["ti"]
    error = context.get("exception")
    paths = class_paths(error) if isinstance(error, BaseException) else []
    next_step = next((NEXT_STEPS[path] for path in paths if path in NEXT_STEPS), None)
    return {
        "failed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": ti.run_id,
        "try_number": ti.try_number,
        "max_tries": getattr(ti, "max_tries", None),
        "error_type": paths[0] if paths else None,
        "error": str(error) if error is not None else None,
        "tables": list(tables),
        "log_file": task_log_file(ti),
        "log_url": getattr(ti, "log_url", None),
        "next_step": next_step,
    }


def failure_message(facts: Mapping[str, Any]) -> str:
    """The report a person reads: what failed, the error, the tables, where to look."""
    lines = [
        f"Ronghe task failed: {facts['dag_id']}.{facts['task_id']} "
        f"(run {facts['run_id']}, try {facts['try_number']})",
        f"Error: {facts['error_type'] or 'unknown'}: {facts['error'] or '(no message)'}",
    ]
    if facts["tables"]:
        lines.append(f"Warehouse tables involved: {', '.join(facts['tables'])}")
    if facts["log_file"]:
        lines.append(f"Task log: {facts['log_file']}")
    if facts["log_url"]:
        lines.append(f"In the Airflow UI: {facts['log_url']}")
    if facts["next_step"]:
        lines.append(f"Next: {facts['next_step']}")
    return "\n".join(lines)


def failures_file(home: Path) -> Path:
    return home / "logs" / FAILURES_FILE_NAME


class FailureReport:
    """`on_failure_callback` naming the warehouse tables the task works on."""

    def __init__(self, tables: Sequence[str] = ()) -> None:
        self.tables = tuple(tables)

    def __call__(self, context: Mapping[str, Any]) -> None:
        from ronghe.settings import load_settings

        facts = describe_failure(context, self.tables)
        log.error(failure_message(facts))
        path = failures_file(load_settings().home)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(facts, ensure_ascii=False, default=str) + "\n")
        record_run(
            load_settings(), facts["run_id"], RUN_FINISHED,
            outcome="failed", dag_id=facts["dag_id"], failed_task=facts["task_id"],
        )  # fmt: skip


def task_defaults(
    *,
    tables: Sequence[str] = (),
    retries: int = 2,
    execution_timeout: timedelta = timedelta(minutes=30),
) -> dict[str, Any]:
    """Arguments every Ronghe task starts from: retries with backoff, a timeout, the report."""
    return {
        "owner": "ronghe",
        "retries": retries,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
        "retry_policy": RongheRetryPolicy(),
        "execution_timeout": execution_timeout,
        "on_failure_callback": FailureReport(tables),
    }
