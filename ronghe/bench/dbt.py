"""Benchmark of the dbt layers: `dbt build` next to its own compiled SQL in one DuckDB session.

A layer is what one `dbt build` of the transform DAG builds: `staging` is
everything that does not read the identity step's tables (staging and
intermediate models and their data tests), `unified` is the rest (unified and
marts). As in the DAG, dbt unit tests (fixtures only, no data) are left to CI.
Before dbt runs, the warehouse file is copied; after it ran, the SQL dbt
compiled for the nodes it executed (`target/manifest.json`, in the order of
`target/run_results.json`) is run on the copy in one DuckDB session: each
model as `CREATE OR REPLACE VIEW/TABLE ... AS <compiled SQL>`, each data test
as a count of its failing rows. That is the lower bound: the same work without
dbt's parsing, graph, hooks and metadata statements.

The builds start from a parsed project, as in the transform DAG: `ronghe run`
and a deployment's init step parse it first
(`ronghe.orchestration.dbt_manifest.compile_manifest`), and so does the plain
pipeline of the bench (`parse_project`, measured as its own step and counted
in the run's total). Each build also reports how long importing dbt took and
dbt's own elapsed time, so the gap to the bound splits into start-up and
per-node cost.

Goal: `dbt build` within 1.2x the compiled SQL plus 5 s of fixed cost.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from ronghe.bench.measure import measure

GOAL_RATIO = 1.2
GOAL_FIXED_SECONDS = 5.0
# The transform DAG's two dbt invocations, either side of the identity step.
SELECTIONS = {
    "staging": ["--exclude", "source:identity+"],
    "unified": ["--select", "source:identity+"],
}
# What the DAG's builds leave out: unit tests check SQL on fixtures and run in CI.
EXCLUDED_RESOURCE_TYPES = ["--exclude-resource-type", "unit_test"]


def build_layer(layer: str, target_dir: str) -> dict[str, Any]:
    """`dbt build` of one layer with its artefacts in `target_dir`; dbt's own elapsed time."""
    from ronghe.transform.dbt_invocation import run_dbt

    started, cpu_started = time.perf_counter(), time.process_time()
    import dbt.cli.main  # noqa: F401  (timed apart: the part of the start-up no flag changes)

    imported = time.perf_counter() - started
    target = Path(target_dir)
    artefacts = ["--target-path", str(target), "--log-path", str(target / "logs")]
    run_dbt(["build", *SELECTIONS[layer], *EXCLUDED_RESOURCE_TYPES, *artefacts, "--quiet"])
    run_results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    return {
        "nodes": len(run_results["results"]),
        "elapsed_seconds": run_results["elapsed_time"],
        "import_seconds": round(imported, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
    }


def parse_project() -> str:
    """The parse `ronghe run` does before the transform DAG; the manifest's path."""
    from ronghe.orchestration.dbt_manifest import compile_manifest
    from ronghe.settings import load_settings

    return str(compile_manifest(load_settings()))


def bench_dbt_layer(
    layer: str, warehouse: Path, env: dict[str, str], work_dir: Path
) -> dict[str, Any]:
    """Build `layer` with dbt on `warehouse`, then its compiled SQL on a copy taken before."""
    work_dir = Path(work_dir)
    bound_warehouse = work_dir / f"bound-{layer}" / warehouse.name  # same name: same catalog
    copy_warehouse(warehouse, bound_warehouse)
    target = work_dir / f"dbt-{layer}"
    logs = work_dir / "logs"
    ours = measure(
        "ronghe.bench.dbt:build_layer", layer, str(target), env=env, log=logs / f"{layer}.log"
    )
    plan = compiled_plan(target)
    floor = measure(
        "ronghe.bench.dbt:run_compiled",
        str(bound_warehouse),
        plan["statements"],
        env=env,
        log=logs / f"{layer}-compiled-sql.log",
    )
    shutil.rmtree(bound_warehouse.parent)
    bound_seconds = floor["result"]["seconds"]
    budget = GOAL_RATIO * bound_seconds + GOAL_FIXED_SECONDS
    return {
        "seconds": ours["seconds"],
        "peak_rss_mib": ours["peak_rss_mib"],
        "dbt_elapsed_seconds": round(ours["result"]["elapsed_seconds"], 2),
        "dbt_import_seconds": ours["result"]["import_seconds"],
        "cpu_seconds": ours["result"]["cpu_seconds"],
        "nodes": ours["result"]["nodes"],
        "models": plan["models"],
        "data_tests": plan["data_tests"],
        "unit_tests": plan["unit_tests"],
        "lower_bound_seconds": bound_seconds,
        "lower_bound_cpu_seconds": floor["result"]["cpu_seconds"],
        "lower_bound_peak_rss_mib": floor["peak_rss_mib"],
        "ratio": round(ours["seconds"] / bound_seconds, 2) if bound_seconds else None,
        "goal_seconds": round(budget, 2),
        "goal_met": ours["seconds"] <= budget,
    }


def copy_warehouse(source: Path, target: Path) -> None:
    """Copy a closed DuckDB file (and its write-ahead log, if any)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))


def compiled_plan(target_dir: Path) -> dict[str, Any]:
    """The statements dbt ran, in the order it finished them, as plain SQL."""
    manifest = json.loads((target_dir / "manifest.json").read_text(encoding="utf-8"))
    run_results = json.loads((target_dir / "run_results.json").read_text(encoding="utf-8"))
    statements: list[str] = []
    schemas: dict[str, None] = {}
    counts = {"models": 0, "data_tests": 0, "unit_tests": 0}
    # finishing order respects dependencies even when dbt ran nodes in parallel
    for result in sorted(run_results["results"], key=_finished_at):
        unique_id = result["unique_id"]
        resource_type = unique_id.split(".", 1)[0]
        if resource_type == "unit_test":
            counts["unit_tests"] += 1
            continue
        if resource_type in _NOTHING_TO_RUN:
            continue
        node = manifest["nodes"][unique_id]
        if resource_type == "model":
            statement = _model_statement(node)
            if statement is None:
                continue
            statements.append(statement)
            schemas['"{database}"."{schema}"'.format(**node)] = None
            counts["models"] += 1
        elif resource_type == "test":
            statements.append(f"select count(*) from (\n{node['compiled_code']}\n) as failures")
            counts["data_tests"] += 1
        else:
            raise ValueError(f"{unique_id}: no plain-SQL counterpart for a {resource_type}")
    # dbt creates the schemas it builds into before it runs the first model
    creates = [f"create schema if not exists {schema}" for schema in schemas]
    return {"statements": creates + statements, **counts}


# Nodes `dbt build` lists that run no SQL of their own.
_NOTHING_TO_RUN = {"exposure", "saved_query", "semantic_model", "metric"}


def _model_statement(node: dict[str, Any]) -> str | None:
    materialized = node["config"]["materialized"]
    if materialized == "ephemeral":
        return None  # inlined into its dependants' compiled SQL
    kind = "view" if materialized == "view" else "table"
    return f"create or replace {kind} {node['relation_name']} as (\n{node['compiled_code']}\n)"


def _finished_at(result: dict[str, Any]) -> str:
    phases = {phase["name"]: phase["completed_at"] for phase in result.get("timing", [])}
    return phases.get("execute") or phases.get("compile") or ""


def run_compiled(warehouse: str, statements: list[str]) -> dict[str, float]:
    """Wall and CPU seconds to run `statements` in order in one DuckDB session on `warehouse`."""
    import duckdb

    started, cpu_started = time.perf_counter(), time.process_time()
    with duckdb.connect(warehouse) as connection:
        connection.execute("set TimeZone = 'UTC'")  # as the dbt profile's session
        for statement in statements:
            connection.execute(statement).fetchall()
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
    }
