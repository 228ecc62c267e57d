"""A real Airflow deployment for tests: api-server, scheduler, dag-processor, triggerer.

Each component runs as its own process against a PostgreSQL metadata
database with the LocalExecutor, as `docker-compose.airflow.yml` runs them,
with Ronghe's DAG folder. Nothing is mocked: DAG runs are created by the
scheduler from schedules and asset events, tasks run in worker processes
that talk to the api-server's execution API.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import requests

from ronghe.pipeline.airflow_env import COSMOS_SETTINGS, DAGS_FOLDER, OFFLINE_DEFAULTS

COMPONENTS = {
    "api-server": ["api-server", "--workers", "1"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def metadata_url(url: str) -> str:
    """SQLAlchemy 2.1 defaults `postgresql://` to psycopg 3; Airflow here runs on psycopg2."""
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def airflow_environment(home: Path, metadata_database_url: str, api_port: int) -> dict[str, str]:
    """The configuration the components share (as the compose file's x-airflow-common)."""
    api_url = f"http://127.0.0.1:{api_port}"
    return {
        **OFFLINE_DEFAULTS,
        **COSMOS_SETTINGS,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url(metadata_database_url),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        # A small machine: a few task processes at a time, quick rescans.
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    }


@dataclass
class AirflowServices:
    home: Path
    env: dict[str, str]
    api_url: str
    database_url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def cli(self, *args: str, timeout: float = 120) -> str:
        """Run an `airflow` CLI command against this deployment; its output."""
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}"
            )
        return result.stdout

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read Airflow's metadata database (what the UI shows)."""
        with psycopg2.connect(self.database_url) as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        rows = self.query(
            "select run_id, run_type, state, start_date, end_date from dag_run "
            "where dag_id = %s order by id",
            (dag_id,),
        )
        keys = ("run_id", "run_type", "state", "start_date", "end_date")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return dict(
            self.query(
                "select task_id, state from task_instance where dag_id = %s and run_id = %s",
                (dag_id, run_id),
            )
        )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"Airflow {name} exited with {process.returncode}; see {self.home / name}.log"
                )

    def wait_until(
        self, what: str, condition: Callable[[], Any], timeout: float, every: float = 2.0
    ) -> Any:
        """Poll `condition` until it returns something truthy; fail naming `what`."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f}s for {what}; logs in {self.home}")
            time.sleep(every)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def start_services(
    home: Path, metadata_database_url: str, ronghe_env: Mapping[str, str]
) -> AirflowServices:
    """Migrate the metadata database, prepare the deployment, start the four components."""
    home.mkdir(parents=True, exist_ok=True)
    api_port = free_port()
    # The deployment sees only the settings given here, none of the test process's own.
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RONGHE_", "AIRFLOW_", "PYTHONDONTWRITEBYTECODE"))
    }
    env = {**inherited, **ronghe_env, **airflow_environment(home, metadata_database_url, api_port)}
    services = AirflowServices(
        home=home,
        env=env,
        api_url=f"http://127.0.0.1:{api_port}",
        database_url=metadata_database_url,
    )
    services.cli("db", "migrate", timeout=300)
    subprocess.run(
        [sys.executable, "-m", "ronghe.orchestration.setup"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    try:
        for name, args in COMPONENTS.items():
            with (home / f"{name}.log").open("wb") as log:
                services.processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "airflow", *args],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # so stop() ends its worker children too
                )
        services.wait_until("the api-server to answer", lambda: _answers(services.api_url), 180)
    except BaseException:
        services.stop()
        raise
    return services


def _answers(api_url: str) -> bool:
    try:
        return requests.get(f"{api_url}/api/v2/monitor/health", timeout=5).ok
    except requests.RequestException:
        return False
