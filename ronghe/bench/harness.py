"""`ronghe bench`: generate an estate once, measure every stage against its bound, and judge.

Each stage is measured in a fresh process on the same estate (see
`ronghe.bench.stages`); the extraction benchmark (`ronghe.bench.extract`) and
the orchestration benchmark (`ronghe.bench.orchestration`) run as they do
alone. For the incremental run the estate is grown by one day (the generator
extends a shorter estate without touching its earlier files) and the changed
files are copied over the estate each pipeline already ran on; then the same
pipeline runs again, and once more with nothing new.

Working copies of an estate are hard links (`link_estate`), so a run at a
large scale factor needs the estate's disk space once, not once per copy.
That is safe because nothing writes into a landed file: the generator and
`apply_growth` replace a file (a new inode) rather than rewrite it, and the
pipeline only reads its sources. The ERP's SQLite database is copied, since
SQLite opens it for writing.

Every measured process runs as a deployment runs it: with Python's bytecode
compiled once (deploy/Dockerfile compiles it at install). An environment that
forbids writing bytecode (PYTHONDONTWRITEBYTECODE) would otherwise have each
process compile every module it imports from source, seconds of CPU charged
to whichever step of it imports first; the bench keeps the bytecode in
`<work>/pycache` and compiles the pipeline's imports once before measuring.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ronghe.bench.measure import machine, measure
from ronghe.bench.stages import PLAIN_STAGES, PlainPipeline

STAGES = ("extract", "staging", "identity", "unified", "quality", "orchestration")

# What the pipeline's processes import: compiled to bytecode before anything is timed.
PIPELINE_IMPORTS = (
    "pandas",
    "sqlalchemy",
    "duckdb_engine",
    "psycopg2",
    "great_expectations",
    "dbt.cli.main",
    "dbt.adapters.duckdb",
    "airflow.sdk",
    "airflow.models.dagrun",
    "airflow.dag_processing.dagbag",
    "airflow.api_fastapi.execution_api.app",
    "airflow.sdk.execution_time.task_runner",
    "airflow.providers.standard.operators.python",
    "airflow.providers.openlineage.extractors",
    "airflow.providers.openlineage.plugins.adapter",
    "cosmos",
    "cosmos.operators.watcher",
    "extractors.erp",
    "extractors.pos",
    "extractors.wms",
    "extractors.ecommerce",
    "ronghe.orchestration.transform",
    "ronghe.orchestration.steps",
    "ronghe.identity",
    "ronghe.quality.runner",
    "ronghe.quality.publish",
    "ronghe.lineage.extract_events",
    "ronghe.lineage.dbt_events",
)


@dataclass(frozen=True)
class BenchOptions:
    scale: float
    seed: int
    days: int
    stages: tuple[str, ...]
    work_dir: Path
    incremental: bool
    """Also measure the runs after adding one day of data and with no new data."""


def run_bench(options: BenchOptions) -> dict[str, Any]:
    """Measure the chosen stages on one estate; the raw figures, ready for `ronghe.bench.report`."""
    work = Path(options.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": options.scale,
        "seed": options.seed,
        "days": options.days,
        "stages_requested": list(options.stages),
        "machine": machine(),
        "work_dir": str(work),
    }
    report["bytecode_seconds"] = compile_bytecode_once(work / "pycache")
    started = time.perf_counter()
    estate, report["generate_seconds"] = _estate(work, options, options.days)
    grown = None
    if options.incremental:
        grown, report["generate_grown_seconds"] = _estate(work, options, options.days + 1)
    parts: list[tuple[str, Callable[[], Any]]] = []
    if "extract" in options.stages:
        from ronghe.bench.extract import bench_extract

        parts.append(("extract", lambda: bench_extract(estate, work / "extract")))
    # the extraction benchmark lands on its own; the plain run is for the stages after it
    plain_stages = [stage for stage in options.stages if stage in PLAIN_STAGES]
    if set(plain_stages) - {"extract"} or options.incremental:
        upto = (
            PLAIN_STAGES[-1] if options.incremental else max(plain_stages, key=PLAIN_STAGES.index)
        )
        bounds = frozenset(plain_stages)
        parts.append(("plain", lambda: _plain_runs(estate, grown, work / "plain", upto, bounds)))
    if "orchestration" in options.stages:
        parts.append(("airflow", lambda: _airflow_runs(estate, grown, work / "airflow")))
    for name, part in parts:
        try:
            report[name] = part()
        except Exception as error:
            # keep what was measured so far; the caller reports the failure and exits non-zero
            traceback.print_exc()
            report["failed"] = {"part": name, "error": f"{type(error).__name__}: {error}"[:2000]}
            break
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["machine"]["load_average_1m_at_end"] = machine()["load_average_1m"]
    return report


def compile_bytecode_once(cache: Path) -> float:
    """Keep bytecode in `cache` for every process started from here on; compile the
    pipeline's imports into it now. Returns the seconds spent (little once cached)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache)
    started = time.perf_counter()
    imports = "; ".join(f"import {module}" for module in PIPELINE_IMPORTS)
    result = subprocess.run(
        [sys.executable, "-c", imports], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"the pipeline's modules do not import:\n{result.stderr[-4000:]}")
    return round(time.perf_counter() - started, 1)


def _estate(work: Path, options: BenchOptions, days: int) -> tuple[Path, float | None]:
    """The estate for (scale, seed, days), generated unless already there; seconds spent
    generating it (None when an earlier run's estate was reused)."""
    from ronghe.generate import generate_estate

    estate = work / f"estate-sf{options.scale:g}-seed{options.seed}-days{days}"
    if (estate / "_truth" / "manifest.json").exists():
        return estate, None
    started = time.perf_counter()
    shorter = work / f"estate-sf{options.scale:g}-seed{options.seed}-days{days - 1}"
    if days > options.days and shorter.is_dir():
        link_estate(shorter, estate)  # the generator replaces only what changed
    generate_estate(estate, options.scale, options.seed, days)
    return estate, round(time.perf_counter() - started, 1)


def _share_file(source: str | Path, destination: str | Path) -> None:
    """Hard-link `source` at `destination`; copy SQLite databases, which get written."""
    if Path(source).suffix == ".db":
        shutil.copy2(source, destination)
    else:
        os.link(source, destination)


def link_estate(estate: Path, target: Path) -> None:
    """Make `target` a copy of `estate` whose files are hard links (see the module's note)."""
    shutil.copytree(estate, target, copy_function=_share_file)


def apply_growth(grown: Path, target: Path) -> int:
    """Put in `target` every file of `grown` that is new or differs; how many were put.

    A changed file is replaced, never written through: `target`'s old file may be
    a hard link shared with the shorter estate."""
    copied = 0
    for path in sorted(grown.rglob("*")):
        if not path.is_file():
            continue
        destination = target / path.relative_to(grown)
        if destination.exists():
            if filecmp.cmp(path, destination, shallow=False):
                continue
            destination.unlink()
        destination.parent.mkdir(parents=True, exist_ok=True)
        _share_file(path, destination)
        copied += 1
    return copied


def _fresh_copy(estate: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    link_estate(estate, target / "sources")
    return target / "sources"


def _plain_runs(
    estate: Path, grown: Path | None, work: Path, upto: str, bounds: frozenset[str]
) -> dict[str, Any]:
    sources = _fresh_copy(estate, work)
    pipeline = PlainPipeline(sources, work)
    runs = {"full": pipeline.run("full", upto, bounds)}
    if grown is not None:
        files = apply_growth(grown, sources)
        runs["incremental"] = {**pipeline.run("incremental", upto), "files_changed": files}
        runs["no_new_data"] = pipeline.run("no-new-data", upto)
    return runs


def _airflow_runs(estate: Path, grown: Path | None, work: Path) -> dict[str, Any]:
    """The orchestration benchmark, then `ronghe run` on its home after growth and unchanged."""
    sources = _fresh_copy(estate, work)
    measured = measure(
        "ronghe.bench.harness:orchestration_with_peak",
        str(sources),
        str(work),
        log=work / "orchestration.log",
    )
    runs: dict[str, Any] = {"orchestration": measured["result"]}
    home = work / "airflow"  # where the orchestration benchmark ran Airflow
    # The run with no new data needs no grown estate: it follows the full run (and
    # the incremental one, when measured) on the same home.
    labels = ("no_new_data",)
    if grown is not None:
        files_changed = apply_growth(grown, sources)
        labels = ("incremental", "no_new_data")
    for label in labels:
        run = measure(
            "ronghe.bench.harness:ronghe_run",
            str(sources),
            str(home),
            label,
            log=work / f"ronghe-run-{label}.log",
        )
        runs[label] = {
            "seconds": run["seconds"],
            "peak_rss_mib": max(run["peak_rss_mib"], run["result"]["children_peak_rss_mib"]),
            **run["result"],
        }
    if grown is not None:
        runs["incremental"]["files_changed"] = files_changed
    return runs


def orchestration_with_peak(sources: str, work: str) -> dict[str, Any]:
    """`bench_orchestration`, plus the peak memory of the largest process it started."""
    import resource

    from ronghe.bench.orchestration import bench_orchestration

    report = bench_orchestration(Path(sources), Path(work))
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {**report, "children_peak_rss_mib": round(peak_kib / 1024, 1)}


_DAG_DONE = re.compile(
    r"\[ronghe\] (?P<dag>\S+): (?P<state>success|failed) (?:in|after) (?P<s>[\d.]+)s"
)


_TRANSFORM_SKIPPED = re.compile(r"\[ronghe\] (?P<reason>transform skipped: .+)")


def ronghe_run(sources: str, home: str, label: str) -> dict[str, Any]:
    """`ronghe run` on `sources` with Airflow's home `home`; its DAGs' times and peak memory."""
    import resource

    from ronghe.pipeline.run import run_pipeline

    home_dir = Path(home)
    if run_pipeline(Path(sources), str(home_dir / "warehouse.duckdb"), home_dir) != 0:
        raise RuntimeError(f"ronghe run ({label}) failed; see the run logs in {home_dir / 'logs'}")
    run_log = max((home_dir / "logs").glob("run-*.log"), key=lambda path: path.stat().st_mtime)
    log_text = run_log.read_text("utf-8")
    dags = {m["dag"]: float(m["s"]) for m in _DAG_DONE.finditer(log_text)}
    skipped = _TRANSFORM_SKIPPED.search(log_text)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "dag_seconds": dags,
        # the transform's own word when it found nothing to rebuild, else None
        "transform_skipped": skipped["reason"] if skipped else None,
        "dag_seconds_total": round(sum(dags.values()), 1),
        "children_peak_rss_mib": round(peak_kib / 1024, 1),
        "log": str(run_log),
    }
