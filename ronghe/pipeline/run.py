"""Drive one whole pipeline run through Airflow and print what it produced."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ronghe.pipeline.airflow_env import airflow_environment, prepare_metadata_database
from ronghe.pipeline.driver import PROGRESS
from ronghe.pipeline.summary import print_summary
from ronghe.settings import load_settings

# Extraction first (each source on its own DAG), then the asset-driven
# transform DAG that builds, checks and publishes.
PIPELINE_DAGS = (
    "ronghe_extract_erp",
    "ronghe_extract_pos",
    "ronghe_extract_wms",
    "ronghe_extract_ecommerce",
    "ronghe_transform",
)


@contextmanager
def ecommerce_endpoint(sources_dir: Path) -> Iterator[dict[str, str]]:
    """The API to extract from: a configured endpoint, or a local server over the estate."""
    if os.environ.get("RONGHE_ECOM_API_URL"):
        yield {}
        return
    from ronghe.ecommerce_api import start_server

    token = secrets.token_urlsafe(24)
    with start_server(sources_dir, token=token) as server:
        yield {"RONGHE_ECOM_API_URL": server.url, "RONGHE_ECOM_API_TOKEN": token}


def run_pipeline(
    sources_dir: Path,
    warehouse: str | None,
    home: Path | None,
    *,
    force: bool = False,
    full_refresh: bool = False,
) -> int:
    sources_dir = sources_dir.expanduser().resolve()
    if not (sources_dir / "erp").is_dir() and not (sources_dir / "pos").is_dir():
        print(f"{sources_dir} does not look like a source drop (no erp/ or pos/)", file=sys.stderr)
        return 2
    env: dict[str, str] = {"RONGHE_SOURCES_DIR": str(sources_dir)}
    if home:
        env["RONGHE_HOME"] = str(home.expanduser().resolve())
    if warehouse:
        env["RONGHE_WAREHOUSE"] = warehouse
    os.environ.update(env)
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    env.update(RONGHE_HOME=str(settings.home), RONGHE_WAREHOUSE=settings.warehouse)
    env.update(airflow_environment(settings.home))

    log_path = settings.home / "logs" / f"run-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"{PROGRESS} sources {sources_dir}")
    print(f"{PROGRESS} warehouse {settings.warehouse}")
    print(f"{PROGRESS} Airflow log {log_path}")
    prepare_metadata_database(env)
    with ecommerce_endpoint(sources_dir) as endpoint:
        env.update(endpoint)
        returncode = _drive(env, log_path, force=force, full_refresh=full_refresh)
    elapsed = time.monotonic() - started
    if returncode != 0:
        print(
            f"{PROGRESS} the run failed after {elapsed:.0f}s; details in {log_path}",
            file=sys.stderr,
        )
        return returncode
    print(f"{PROGRESS} the run succeeded in {elapsed:.0f}s")
    print_summary(load_settings(), log_path)
    return 0


def _drive(env: dict[str, str], log_path: Path, *, force: bool, full_refresh: bool) -> int:
    """Run the DAGs in a child process; echo progress lines, keep everything in the log."""
    command = [
        sys.executable,
        "-m",
        "ronghe.pipeline.driver",
        *(["--force"] if force else []),
        *(["--full-refresh"] if full_refresh else []),
        *PIPELINE_DAGS,
    ]
    with (
        log_path.open("w", encoding="utf-8") as log,
        subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        ) as child,
    ):
        assert child.stdout is not None
        for line in child.stdout:
            log.write(line)
            if line.startswith(PROGRESS):
                print(line, end="", flush=True)
            elif task := _task_event(line):
                print(f"{PROGRESS}   {task}", flush=True)
        return child.wait()


_TASK_EVENT = re.compile(r"\[DAG TEST\] (?P<event>starting|end task) task_id=(?P<task>\S+)")


def _task_event(line: str) -> str | None:
    """A short 'task started/finished' line out of Airflow's test-run log."""
    match = _TASK_EVENT.search(line)
    if not match:
        return None
    verb = "running" if match["event"] == "starting" else "finished"
    return f"{verb} {match['task']}"
