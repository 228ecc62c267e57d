"""Every DAG file parses in under a second, as the dag-processor parses it (every 30 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ronghe.bench.orchestration import GOAL_PARSE_SECONDS, dag_parse_seconds
from ronghe.pipeline.airflow_env import DAGS_FOLDER

pytestmark = pytest.mark.airflow

DAG_FILES = sorted(DAGS_FOLDER.glob("*.py"))


@pytest.mark.parametrize("path", DAG_FILES, ids=[path.name for path in DAG_FILES])
def test_dag_file_parses_in_under_a_second(orchestration_env: dict[str, str], path: Path) -> None:
    # CPU time: the parse's own cost, whatever else the machine is doing.
    probe = dag_parse_seconds(path, orchestration_env)
    assert probe["errors"] == {} and probe["dags"] >= 1, probe
    assert probe["cpu_seconds"] < GOAL_PARSE_SECONDS, probe
