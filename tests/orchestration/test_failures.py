"""A failed task says what failed and where to look; verdicts are not retried."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ronghe.orchestration.failures import RongheRetryPolicy, failures_file
from ronghe.pipeline.airflow_env import (
    DAGS_FOLDER,
    OFFLINE_DEFAULTS,
    airflow_environment,
    prepare_metadata_database,
)
from tests.extractors.estates import pos_estate

# One extract DAG run through Airflow's own runner, without retries so the
# failure comes at once.
_RUN_POS_EXTRACT = """
import sys
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags["ronghe_extract_pos"]
for task in dag.tasks:
    task.retries = 0
print("dag run state:", dag.test().state)
"""

# Stands for a BI tool with the warehouse file open.
_HOLD_WAREHOUSE = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(600)
"""


@pytest.mark.airflow
def test_a_process_holding_the_warehouse_fails_the_task_with_a_report_naming_it(
    tmp_path: Path,
) -> None:
    sources, home = tmp_path / "sources", tmp_path / "home"
    pos_estate(sources)
    warehouse = home / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    env = {
        **os.environ,
        **OFFLINE_DEFAULTS,
        **airflow_environment(home),
        "RONGHE_HOME": str(home),
        "RONGHE_SOURCES_DIR": str(sources),
        "RONGHE_WAREHOUSE": str(warehouse),
    }
    prepare_metadata_database(env)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WAREHOUSE, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        run = subprocess.run(
            [sys.executable, "-c", _RUN_POS_EXTRACT, str(DAGS_FOLDER / "ronghe_extract.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        holder.kill()
        holder.wait()

    output = run.stdout + run.stderr
    assert "dag run state: failed" in output, output[-3000:]
    # The task's log shows the error naming the holder.
    assert "WarehouseLockedError" in output
    assert f"(PID {holder.pid})" in output
    (report,) = [json.loads(line) for line in failures_file(home).read_text().splitlines()]
    assert report["dag_id"] == "ronghe_extract_pos"
    assert report["task_id"] == "extract"
    assert report["error_type"] == "ronghe.warehouse.WarehouseLockedError"
    assert f"(PID {holder.pid})" in report["error"]
    assert str(warehouse) in report["error"]
    assert "raw.pos_lines" in report["tables"]
    assert report["log_url"].endswith("/tasks/extract?try_number=1")
    assert report["next_step"].startswith("Close the process")


def test_verdicts_fail_at_once_and_a_held_warehouse_is_retried() -> None:
    from ronghe.quality.runner import QualityGateFailed
    from ronghe.warehouse import WarehouseLockedError

    policy = RongheRetryPolicy()
    gate = policy.evaluate(QualityGateFailed("2 blocking rules failed", {}), 1, 3)
    assert gate.action.value == "fail"
    locked = policy.evaluate(WarehouseLockedError("held by dbeaver (PID 7)"), 1, 3)
    assert locked.action.value == "default"
    network = policy.evaluate(ConnectionError("reset by peer"), 1, 3)
    assert network.action.value == "default"
