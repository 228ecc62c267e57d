"""Benchmark of orchestration: what running through Airflow costs over plain Python.

`bench_orchestration(estate_dir, work_dir)` runs the whole pipeline on an
estate twice, each in a fresh interpreter on a fresh warehouse:

- through Airflow, as `ronghe run` does (`ronghe.pipeline.driver`: the five
  DAGs with `dag.test()`, every task of them, dbt through cosmos);
- as a plain script calling the same functions in the same order (the
  extractors, two `dbt build`s, the landed-data checks, the identity step,
  the audited publish, the run record).

Goal: Airflow within 1.1x the script plus at most 1 s per task it ran.
Then it runs every extract DAG again on the unchanged estate: a run that
finds nothing new must finish within 15 s (timed on a second pass, after the
one-time start of Airflow's in-process execution API that `dag.test()` pays
in a new process). It also times the parse of each
DAG file the way the dag-processor parses it (goal: under 1 s each).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

GOAL_RATIO = 1.1
GOAL_SECONDS_PER_TASK = 1.0
GOAL_IDLE_RUN_SECONDS = 15.0
GOAL_PARSE_SECONDS = 1.0

_DAG_DONE = re.compile(
    r"\[ronghe\] (?P<dag>\S+): (?P<state>success|failed) (?:in|after) (?P<s>[\d.]+)s"
)
_TASK_START = "[DAG TEST] starting task_id="

# Run in a fresh interpreter: parse one DAG file as the dag-processor does, after
# importing Airflow and pre-importing the `airflow.*` modules the file names.
_PARSE_PROBE = """
import importlib, json, sys, time
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
from airflow.utils.file import iter_airflow_imports
path = sys.argv[1]
for module in iter_airflow_imports(path):
    importlib.import_module(module)
cpu_started = time.process_time()
bag = DagBag(dag_folder=path)
cpu_seconds = time.process_time() - cpu_started
(stat,) = bag.dagbag_stats
errors = {str(path): error for path, error in bag.import_errors.items()}
print(json.dumps({"seconds": stat.duration.total_seconds(), "cpu_seconds": cpu_seconds,
                  "dags": stat.dag_num, "errors": errors}))
"""


def dag_parse_seconds(path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Parse one DAG file in a fresh interpreter as the dag-processor does.

    Returns the wall time Airflow records for the file (`seconds`) and the CPU
    time the parse took (`cpu_seconds`): the file's own cost, which other load
    on the machine does not inflate.
    """
    result = subprocess.run(
        [sys.executable, "-c", _PARSE_PROBE, str(path)],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_orchestration_scale(
    scale: float, work_dir: Path, seed: int = 42, days: int = 30
) -> dict[str, Any]:
    """Generate (or reuse) an SF`scale` estate under `work_dir`, then `bench_orchestration`."""
    from ronghe.generate import generate_estate

    estate = Path(work_dir) / f"estate-sf{scale:g}-seed{seed}-days{days}"
    if not (estate / "_truth" / "manifest.json").exists():
        generate_estate(estate, scale, seed, days)
    return bench_orchestration(estate, Path(work_dir) / f"orchestration-sf{scale:g}")


def bench_orchestration(estate_dir: Path, work_dir: Path) -> dict[str, Any]:
    """Airflow next to the plain script on one estate, the idle runs and the parse times."""
    from ronghe.ecommerce_api import start_server
    from ronghe.pipeline.airflow_env import DAGS_FOLDER, OFFLINE_DEFAULTS

    estate_dir, work_dir = Path(estate_dir).resolve(), Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(16)
    with start_server(estate_dir, token=token) as server:
        common = {
            **OFFLINE_DEFAULTS,
            "RONGHE_SOURCES_DIR": str(estate_dir),
            "RONGHE_ECOM_API_URL": server.url,
            "RONGHE_ECOM_API_TOKEN": token,
        }
        script = _timed_script(work_dir / "script", common)
        airflow_home = work_dir / "airflow"
        airflow = _timed_driver(airflow_home, common, _pipeline_dags(), "pipeline")
        # Each extract DAG twice in one process: the first `dag.test()` of a process
        # also starts Airflow's in-process execution API; the second pass is the run.
        extracts = _pipeline_dags()[:-1]
        idle = _timed_driver(airflow_home, common, extracts + extracts, "idle")
    parse_env = {**common, **_home_env(airflow_home)}
    parse = {
        path.name: dag_parse_seconds(path, parse_env) for path in sorted(DAGS_FOLDER.glob("*.py"))
    }
    allowed = GOAL_RATIO * script["seconds"] + GOAL_SECONDS_PER_TASK * airflow["tasks"]
    report = {
        "estate": str(estate_dir),
        "airflow": airflow,
        "script": script,
        "airflow_over_script": round(airflow["seconds"] / script["seconds"], 2),
        "allowed_airflow_seconds": round(allowed, 1),
        "within_goal": airflow["succeeded"] and airflow["seconds"] <= allowed,
        "idle_runs": idle["dags"],
        "idle_within_goal": idle["succeeded"]
        and all(seconds <= GOAL_IDLE_RUN_SECONDS for seconds in idle["dags"].values()),
        "parse_seconds": parse,
        "parse_within_goal": all(p["cpu_seconds"] < GOAL_PARSE_SECONDS for p in parse.values()),
    }
    (work_dir / "bench_orchestration.json").write_text(json.dumps(report, indent=2))
    return report


def _pipeline_dags() -> tuple[str, ...]:
    from ronghe.pipeline.run import PIPELINE_DAGS

    return PIPELINE_DAGS


def _home_env(home: Path) -> dict[str, str]:
    from ronghe.pipeline.airflow_env import airflow_environment

    return {
        "RONGHE_HOME": str(home),
        "RONGHE_WAREHOUSE": str(home / "warehouse.duckdb"),
        **airflow_environment(home),
    }


def _timed_driver(
    home: Path, common: dict[str, str], dag_ids: tuple[str, ...], label: str
) -> dict[str, Any]:
    """`python -m ronghe.pipeline.driver` on `dag_ids`; wall time, per-DAG time, tasks run."""
    from ronghe.pipeline.airflow_env import prepare_metadata_database

    env = {**os.environ, **common, **_home_env(home)}
    prepare_metadata_database(env)  # once per home; not part of a run
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "ronghe.pipeline.driver", *dag_ids],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    log = home / f"driver-{label}.log"
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    finished = [(m["dag"], float(m["s"])) for m in _DAG_DONE.finditer(result.stdout)]
    return {
        "seconds": round(seconds, 1),
        "succeeded": result.returncode == 0,
        "dags": dict(finished),  # a DAG run twice keeps its last time
        "first_dag_seconds": finished[0][1] if finished else None,
        "tasks": result.stdout.count(_TASK_START),
        "log": str(log),
    }


def _timed_script(home: Path, common: dict[str, str]) -> dict[str, Any]:
    """The same stages as a plain Python script in a fresh interpreter; wall and stage times."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **common,
        "RONGHE_HOME": str(home),
        "RONGHE_WAREHOUSE": str(home / "warehouse.duckdb"),
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", "from ronghe.bench.orchestration import run_stages; run_stages()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    (home / "script.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        raise RuntimeError(f"the plain pipeline script failed; see {home / 'script.log'}")
    return {"seconds": round(seconds, 1), "stages": json.loads(result.stdout.splitlines()[-1])}


def run_stages() -> None:
    """The pipeline's stages in order, without Airflow; prints each stage's seconds as JSON."""
    from ronghe.orchestration.extract import extract_specs, run_extractor
    from ronghe.orchestration.steps import check_landed, publish, resolve_identity, write_run_record
    from ronghe.settings import load_settings
    from ronghe.transform.dbt_invocation import run_dbt

    settings = load_settings()
    run_id = "plain-script"
    after_identity = ["source:identity+"]
    artefacts = ["--target-path", str(settings.home / "dbt_target")]
    timings: dict[str, float] = {}

    def stage(name: str, step: Any) -> Any:
        started = time.monotonic()
        result = step()
        timings[name] = round(time.monotonic() - started, 2)
        return result

    for spec in extract_specs():
        stage(f"extract_{spec.source}", lambda spec=spec: run_extractor(spec))
    stage("dbt_staging", lambda: run_dbt(["build", "--exclude", *after_identity, *artefacts]))
    landed = stage("quality_landed", lambda: check_landed(run_id))
    identity = stage("resolve_identity", resolve_identity)
    stage("dbt_unified", lambda: run_dbt(["build", "--select", *after_identity, *artefacts]))
    published = stage("publish_marts", lambda: publish(run_id))
    steps = {"quality_landed": landed, "resolve_identity": identity, "publish": published}
    stage("report", lambda: write_run_record(run_id, steps))
    print(json.dumps(timings))
