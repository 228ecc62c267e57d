"""Run DAGs one after another with Airflow's own test runner, in one process.

`python -m ronghe.pipeline.driver [--force] [--full-refresh] DAG_ID [DAG_ID ...]`
prepares the deployment (pools, the dbt manifest the transform DAG is drawn from), parses the DAG
folder once and calls `dag.test()` for each DAG in order: the same machinery
as `airflow dags test`, without paying Airflow's start-up once per DAG. It
stops at the first DAG run that does not succeed and exits non-zero, naming
the failed tasks and repeating their failure reports (what failed, the
tables involved, where to look). Lines starting with PROGRESS are meant for
the person watching. `--force` starts the transform DAG with its `force`
parameter: it rebuilds even when nothing changed since the last publish;
`--full-refresh` with its `full_refresh` parameter: its dbt builds rebuild
every incremental model from the raw layer.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

PROGRESS = "[ronghe]"
TRANSFORM_DAG = "ronghe_transform"


def progress(message: str) -> None:
    print(f"{PROGRESS} {message}", flush=True)


# Failures that only follow from another task's failure (a dbt model task whose
# build failed before reaching it): their reports add nothing to the cause's.
CONSEQUENTIAL_ERRORS = {"ronghe.orchestration.transform.NotTheBuildError"}
REPORTS_SHOWN = 3


def _new_failure_reports(path: Path, offset: int) -> tuple[list[str], int]:
    """Reports of the failures this run appended after `offset`, causes first; and how many."""
    from ronghe.orchestration.failures import failure_message

    if not path.exists():
        return [], 0
    with path.open(encoding="utf-8") as handle:
        handle.seek(offset)
        facts = [json.loads(line) for line in handle if line.strip()]
    causes = [fact for fact in facts if fact["error_type"] not in CONSEQUENTIAL_ERRORS]
    return [failure_message(fact) for fact in (causes or facts)], len(facts)


def _skipped_transform(home: Path, run_id: str) -> str | None:
    """Why a transform run rebuilt nothing, from its run record; None if it rebuilt."""
    from ronghe.orchestration.steps import run_record_path

    path = run_record_path(home, run_id)
    if not path.exists():
        return None
    decision = json.loads(path.read_text(encoding="utf-8"))["steps"].get("check_inputs")
    return decision["reason"] if decision and not decision["rebuild"] else None


def start_task_api() -> float:
    """Start Airflow's in-process task execution API now; the seconds it took.

    `dag.test()` starts it with the first task of the process (a FastAPI app
    built once, seconds long), which would charge that one-time start to
    whichever DAG runs first. Started here, each DAG's time is its own.
    """
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    started = time.monotonic()
    api = in_process_api_server()  # cached: the one `dag.test()` uses
    api.transport  # noqa: B018 (builds the app and its event loop)
    return time.monotonic() - started


def transform_conf(*, force: bool, full_refresh: bool) -> dict[str, bool] | None:
    """The transform DAG's run parameters for `dag.test()`; None keeps the defaults."""
    conf = {"force": force, "full_refresh": full_refresh}
    return conf if any(conf.values()) else None


def run_dags(dag_ids: list[str], *, force: bool = False, full_refresh: bool = False) -> int:
    from airflow.dag_processing.dagbag import DagBag

    from ronghe.orchestration.failures import failures_file
    from ronghe.orchestration.setup import prepare_deployment
    from ronghe.pipeline.airflow_env import DAGS_FOLDER
    from ronghe.settings import load_settings

    progress("compiling the dbt manifest the transform DAG is drawn from")
    prepare_deployment()
    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            progress(f"DAG file {path} does not import: {error}")
        return 2
    progress(f"Airflow's in-process task API started in {start_task_api():.1f}s")
    home = load_settings().home
    reports = failures_file(home)
    reports_offset = reports.stat().st_size if reports.exists() else 0
    for dag_id in dag_ids:
        dag = bag.get_dag(dag_id)
        if dag is None:
            progress(f"no DAG named {dag_id} in {DAGS_FOLDER}")
            return 2
        progress(f"{dag_id}: started")
        started = time.monotonic()
        conf = transform_conf(force=force, full_refresh=full_refresh)
        dag_run = dag.test(run_conf=conf if dag_id == TRANSFORM_DAG else None)
        elapsed = time.monotonic() - started
        if dag_run.state != "success":
            unfinished = [
                ti for ti in dag_run.get_task_instances() if ti.state not in ("success", "skipped")
            ]
            failed = [ti.task_id for ti in unfinished if ti.state == "failed"]
            not_run = len(unfinished) - len(failed)
            progress(
                f"{dag_id}: {dag_run.state} after {elapsed:.1f}s; failed tasks: {failed}"
                + (f"; {not_run} tasks downstream of them did not run" if not_run else "")
            )
            shown, total = _new_failure_reports(reports, reports_offset)
            for report in shown[:REPORTS_SHOWN]:
                for line in report.splitlines():
                    progress(f"  {line}")
            if total > REPORTS_SHOWN:
                progress(f"  {total - REPORTS_SHOWN} more failure reports in {reports}")
            return 1
        progress(f"{dag_id}: success in {elapsed:.1f}s")
        if dag_id == TRANSFORM_DAG and (skipped := _skipped_transform(home, dag_run.run_id)):
            progress(skipped)
        elif dag_id == TRANSFORM_DAG and full_refresh:
            progress(f"{dag_id}: full refresh (every incremental model rebuilt from raw)")
    return 0


def main(argv: list[str]) -> int:
    flags = {"--force", "--full-refresh"}
    return run_dags(
        [arg for arg in argv if arg not in flags],
        force="--force" in argv,
        full_refresh="--full-refresh" in argv,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
