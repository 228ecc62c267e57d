"""Fixtures for the orchestration tests: a compiled manifest and the parsed DAG folder.

The settings they need are applied only while the manifest is compiled and
the DAG folder parsed, so no other test of the session inherits them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from ronghe.orchestration.dbt_manifest import MANIFEST_DIR_NAME
from ronghe.pipeline.airflow_env import OFFLINE_DEFAULTS


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@pytest.fixture(scope="session")
def orchestration_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Settings of a RONGHE_HOME whose dbt manifest is compiled."""
    from ronghe.orchestration.dbt_manifest import compile_manifest
    from ronghe.settings import load_settings

    home = tmp_path_factory.mktemp("orchestration-home")
    values = {
        **OFFLINE_DEFAULTS,
        "RONGHE_HOME": str(home),
        "RONGHE_WAREHOUSE": str(home / "warehouse.duckdb"),
    }
    with environment(values):
        compile_manifest(load_settings())
    return values


@pytest.fixture(scope="session")
def dag_bag(orchestration_env: dict[str, str]):
    from airflow.dag_processing.dagbag import DagBag

    from ronghe.pipeline.airflow_env import DAGS_FOLDER

    with environment(orchestration_env):
        return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.fixture(scope="session")
def manifest(orchestration_env: dict[str, str]) -> dict:
    path = Path(orchestration_env["RONGHE_HOME"]) / MANIFEST_DIR_NAME / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))
