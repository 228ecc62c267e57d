"""A reviewable picture of the pipeline graph: DAGs, schedules, tasks, pools, assets.

`tests/orchestration/pipeline_graph.json` holds the picture of the current
DAGs; a test redraws it and fails on any difference, so a change to the
graph (a new dbt model, a task moved out of the warehouse pool, a schedule,
an asset no longer published) shows up in review as a diff of that file.
After an intended change, redraw it:

    .venv/bin/python -m ronghe.orchestration.snapshot

It compiles the dbt manifest into a scratch RONGHE_HOME and parses `dags/`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ronghe.settings import REPO_ROOT

SNAPSHOT_PATH = REPO_ROOT / "tests" / "orchestration" / "pipeline_graph.json"


def _schedule(dag: Any) -> Any:
    from airflow.sdk import AssetAny, CronDataIntervalTimetable

    timetable = dag.timetable
    if isinstance(timetable, CronDataIntervalTimetable):
        return {"cron": timetable.expression, "timezone": str(timetable.timezone)}
    condition = getattr(timetable, "asset_condition", None)
    if isinstance(condition, AssetAny):
        return {"any_asset_of": sorted(asset.name for asset in condition.objects)}
    return repr(timetable)


def _task(task: Any) -> dict[str, Any]:
    return {
        "operator": type(task).__name__,
        "upstream": sorted(task.upstream_task_ids),
        "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
        "pool": task.pool,
        "retries": task.retries,
        "outlets": sorted(outlet.name for outlet in task.outlets),
    }


def graph_snapshot(dags: Iterable[Any]) -> dict[str, Any]:
    """The picture of some DAGs as plain JSON-ready data, in a stable order."""
    return {
        dag.dag_id: {
            "schedule": _schedule(dag),
            "start_date": dag.start_date.isoformat() if dag.start_date else None,
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "tags": sorted(dag.tags),
            "tasks": {task.task_id: _task(task) for task in sorted(dag.tasks, key=_task_id)},
        }
        for dag in sorted(dags, key=lambda dag: dag.dag_id)
    }


def _task_id(task: Any) -> str:
    return task.task_id


def render(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, indent=2, sort_keys=True) + "\n"


def draw_current_graph() -> dict[str, Any]:
    """Compile the manifest into a scratch home, parse `dags/`, picture every DAG."""
    from airflow.dag_processing.dagbag import DagBag

    from ronghe.orchestration.dbt_manifest import compile_manifest
    from ronghe.pipeline.airflow_env import DAGS_FOLDER
    from ronghe.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="ronghe-snapshot-") as home:
        os.environ["RONGHE_HOME"] = home
        os.environ["RONGHE_WAREHOUSE"] = str(Path(home) / "warehouse.duckdb")
        compile_manifest(load_settings())
        bag = DagBag(dag_folder=str(DAGS_FOLDER))
        if bag.import_errors:
            raise RuntimeError(f"DAG files do not import: {bag.import_errors}")
        return graph_snapshot(bag.dags.values())


def main() -> int:
    SNAPSHOT_PATH.write_text(render(draw_current_graph()), encoding="utf-8")
    print(f"wrote {SNAPSHOT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
