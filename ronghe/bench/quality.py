"""Benchmark of the validation stage: the GX quality gates next to hand-written SQL.

`bench_quality(settings)` runs every suite (raw, staging, unified, marts) as
the pipeline does, in its two gates (landed: raw and staging; publish:
unified and marts), GX checkpoints with all evidence stored, and then the same
checks as plain SQL on a plain DuckDB connection: one scan per table computing
the table's row count and every column check together, plus each SQL rule
counted once. Each side runs in a fresh child process and is timed inside it
(interpreter start-up and imports are reported apart). The two sides must
reach the same verdict on every rule. Goal: GX within 1.5x the SQL, plus 3 s.

`bench_quality_scale(scale, work_dir)` first generates an estate and builds
its warehouse with the pipeline's steps (`build_warehouse`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ronghe.settings import REPO_ROOT, Settings

GOAL_RATIO = 1.5
GOAL_SLACK_SECONDS = 3.0
LAYERS = ("raw", "staging", "unified", "marts")
# The pipeline's two gates, as the transform DAG runs them: the landed and
# staged data before identity, the build before its marts are published.
GATES = {"landed": ("raw", "staging"), "publish": ("unified", "marts")}
BUILD_STEPS = ("extract", "dbt_staging", "identity", "dbt_build")
# DuckDB's information_schema type names, by the families the suites use.
_DUCKDB_FAMILIES = {
    "VARCHAR": "text",
    "TINYINT": "integer",
    "SMALLINT": "integer",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "HUGEINT": "integer",
    "DECIMAL": "decimal",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
    "BOOLEAN": "boolean",
}


def bench_quality_scale(
    scale: float, work_dir: Path, seed: int = 42, days: int = 90
) -> dict[str, Any]:
    """Generate (or reuse) an SF`scale` estate and its warehouse, then run `bench_quality`."""
    from ronghe.generate import generate_estate

    work_dir = Path(work_dir).resolve()
    sources = work_dir / f"estate-sf{scale:g}-seed{seed}-days{days}"
    home = work_dir / f"quality-sf{scale:g}"
    if not (sources / "_truth" / "manifest.json").exists():
        generate_estate(sources, scale, seed, days)
    settings = build_warehouse(sources, home)
    return {"scale": scale, **bench_quality(settings)}


def build_warehouse(sources: Path, home: Path, steps: tuple[str, ...] = BUILD_STEPS) -> Settings:
    """Land an estate and build its warehouse (up to `marts_candidate`) under `home`.

    Each step runs in its own process, as an Airflow task does: dbt-duckdb keeps
    the warehouse open for its process's life.
    """
    environment = {**os.environ, **_environment(home, sources)}
    for step in steps:
        finished = subprocess.run(
            [sys.executable, "-m", "ronghe.bench.quality", step],
            cwd=REPO_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if finished.returncode != 0:
            raise RuntimeError(
                f"build step {step} failed:\n{finished.stdout[-3000:]}\n{finished.stderr[-5000:]}"
            )
    return _settings(home, sources)


def bench_quality(settings: Settings, run_id: str = "bench-quality") -> dict[str, Any]:
    """Time the gates and the hand-written SQL on the same warehouse; compare their verdicts."""
    if settings.warehouse_is_postgres:
        raise ValueError("the quality benchmark measures the DuckDB warehouse")
    spawn = get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        gates = pool.submit(_run_gates, settings, run_id).result()
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        scans = pool.submit(scan_verdicts, settings).result()
    disagreements = sorted(
        rule
        for rule in set(gates["verdicts"]) | set(scans["verdicts"])
        if gates["verdicts"].get(rule) != scans["verdicts"].get(rule)
    )
    budget = GOAL_RATIO * scans["seconds"] + GOAL_SLACK_SECONDS
    return {
        "rules": len(gates["verdicts"]),
        "gx_seconds": gates["seconds"],
        "gx_import_seconds": gates["import_seconds"],
        "gx_seconds_by_layer": gates["by_layer"],
        "sql_seconds": scans["seconds"],
        "ratio": round(gates["seconds"] / scans["seconds"], 2) if scans["seconds"] else None,
        # CPU seconds of each side's process (all threads): steadier than wall time
        # when other work shares the machine.
        "gx_cpu_seconds": gates["cpu_seconds"],
        "sql_cpu_seconds": scans["cpu_seconds"],
        "cpu_ratio": (
            round(gates["cpu_seconds"] / scans["cpu_seconds"], 2) if scans["cpu_seconds"] else None
        ),
        "goal_seconds": round(budget, 2),
        "goal_met": gates["seconds"] <= budget,
        "verdicts_agree": not disagreements,
        "disagreements": disagreements,
        "failed_rules": sorted(rule for rule, ok in gates["verdicts"].items() if not ok),
    }


def _run_gates(settings: Settings, run_id: str) -> dict[str, Any]:
    started = time.perf_counter()
    from ronghe.quality.runner import QualityGateFailed, run_quality_gate

    imported = time.perf_counter()
    cpu_started = time.process_time()
    by_layer = {}
    for gate, layers in GATES.items():
        gate_started = time.perf_counter()
        # the verdicts are compared afterwards; a failing rule is measured all the same
        with contextlib.suppress(QualityGateFailed):
            run_quality_gate(list(layers), settings, f"{run_id}-{gate}")
        by_layer["+".join(layers)] = round(time.perf_counter() - gate_started, 2)
    seconds = time.perf_counter() - imported
    cpu_seconds = time.process_time() - cpu_started
    verdicts = _stored_verdicts(settings, run_id)
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "import_seconds": round(imported - started, 2),
        "by_layer": by_layer,
        "verdicts": verdicts,
    }


def _stored_verdicts(settings: Settings, run_id: str) -> dict[str, bool]:
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        rows = connection.execute(
            "select rule_id, success from ops.dq_results where run_id like ?", [f"{run_id}-%"]
        ).fetchall()
    return dict(rows)


def scan_verdicts(settings: Settings) -> dict[str, Any]:
    """The same checks as one scan per table plus each SQL rule, on a plain connection:
    {seconds, cpu_seconds, verdicts: rule id -> passed}."""
    import duckdb

    from expectations import all_suites
    from ronghe.quality.runner import quality_config

    suites = [suite for suite in all_suites(quality_config(settings)) if suite.layer in LAYERS]
    verdicts: dict[str, bool] = {}
    started = time.perf_counter()
    cpu_started = time.process_time()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        present = {
            f"{schema}.{table}"
            for schema, table in connection.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        for suite in suites:
            if suite.dataset not in present:
                verdicts[f"{suite.name}.table_exists"] = False
                continue
            verdicts.update(_scan_suite(connection, suite))
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
        "verdicts": verdicts,
    }


def _scan_suite(connection: Any, suite: Any) -> dict[str, bool]:
    from ronghe.quality.runner import UNEXPECTED_ROWS

    verdicts: dict[str, bool] = {}
    measures = ["count(*)"]
    measured: list[tuple[str, str, Any]] = []
    for check in suite.checks:
        rule_id = suite.rule_id(check)
        kwargs = check.expectation.configuration.kwargs
        kind = check.expectation.configuration.type
        if kind in UNEXPECTED_ROWS:
            query = kwargs["unexpected_rows_query"].replace("{batch}", suite.dataset)
            (count,) = connection.execute(f"select count(*) from ({query}) as found").fetchone()
            verdicts[rule_id] = count == 0
        elif kind == "expect_table_columns_to_match_set":
            columns = {
                name
                for (name,) in connection.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [suite.schema, suite.table],
                ).fetchall()
            }
            verdicts[rule_id] = set(kwargs["column_set"]) <= columns
        elif kind == "expect_columns_to_have_types":
            found = dict(
                connection.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [suite.schema, suite.table],
                ).fetchall()
            )
            verdicts[rule_id] = all(
                _DUCKDB_FAMILIES.get(found[name].split("(")[0]) == family
                for name, family in kwargs["column_families"].items()
                if name in found
            )
        elif kind == "expect_column_values_to_be_between":
            measures.append(f"count(*) filter (where {kwargs['column']} < {kwargs['min_value']})")
            measured.append((rule_id, "zero", None))
        elif kind == "expect_table_row_count_to_be_between":
            measured.append((rule_id, "row_count", kwargs["min_value"]))
        else:
            raise ValueError(f"{rule_id}: no SQL equivalent written for {kind}")
    row = connection.execute(f"select {', '.join(measures)} from {suite.dataset}").fetchone()
    row_count, column_counts = row[0], iter(row[1:])
    for rule_id, test, minimum in measured:
        verdicts[rule_id] = (
            row_count >= minimum if test == "row_count" else next(column_counts) == 0
        )
    return verdicts


def _environment(home: Path, sources: Path) -> dict[str, str]:
    return {
        "RONGHE_HOME": str(home),
        "RONGHE_SOURCES_DIR": str(sources),
        "RONGHE_WAREHOUSE": str(home / "warehouse.duckdb"),
    }


def _settings(home: Path, sources: Path) -> Settings:
    from ronghe.bench.measure import settings_under

    return settings_under(_environment(home, sources))


def _build_step(step: str) -> None:
    from ronghe.settings import load_settings

    settings = load_settings()
    if step == "extract":
        from extractors.ecommerce import extract_ecommerce
        from extractors.erp import extract_erp
        from extractors.pos import extract_pos
        from extractors.wms import extract_wms
        from ronghe.ecommerce_api.server import start_server

        extract_erp(settings)
        extract_pos(settings)
        extract_wms(settings)
        with start_server(settings.sources_dir) as server:
            os.environ["RONGHE_ECOM_API_URL"] = server.url
            os.environ["RONGHE_ECOM_API_TOKEN"] = server.token
            extract_ecommerce(load_settings())
    elif step == "identity":
        from ronghe.identity import resolve

        resolve(settings)
    elif step in ("dbt_staging", "dbt_build"):
        from ronghe.transform.dbt_invocation import run_dbt

        # as the transform DAG: first what does not depend on the identity step's tables
        selection = "--exclude" if step == "dbt_staging" else "--select"
        run_dbt(["build", selection, "source:identity+", "--quiet"], settings)
    else:
        raise SystemExit(f"unknown step {step!r}; steps are {BUILD_STEPS}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["scale"]:
        print(json.dumps(bench_quality_scale(float(sys.argv[2]), Path(sys.argv[3])), indent=2))
    else:
        _build_step(sys.argv[1])
