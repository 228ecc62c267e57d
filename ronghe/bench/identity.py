"""Benchmark of the identity step: wall time and peak memory at a given scale.

`bench_identity(scale)` generates a demo estate, lands it and builds the
dbt staging and intermediate layers (the identity step's inputs), then runs
the identity step alone in a fresh child process, so its peak resident
memory is its own, and scores the result against the estate's `_truth/`.
Goal: SF10 in under 5 minutes and 8 GiB.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_SECONDS = {10: 300.0}
GOAL_PEAK_GIB = {10: 8.0}


def bench_identity(
    scale: float = 1.0,
    *,
    workdir: Path | None = None,
    seed: int = 42,
    days: int | None = None,
) -> dict[str, Any]:
    """Time and peak memory of the identity step on a fresh SF`scale` estate, with its scores."""
    from ronghe.identity.evaluation import evaluate_identity
    from ronghe.settings import load_settings

    work = Path(workdir or tempfile.mkdtemp(prefix=f"ronghe-bench-identity-sf{scale:g}-"))
    sources, warehouse = work / "sources", work / "warehouse.duckdb"
    prepare_started = time.monotonic()
    prepare_inputs(sources, warehouse, scale=scale, seed=seed, days=days)
    prepare_seconds = time.monotonic() - prepare_started

    measured = measure_identity_step(warehouse)
    os.environ["RONGHE_WAREHOUSE"] = str(warehouse)
    # the evidence ceiling re-reads every record: worth it up to SF1
    scores = evaluate_identity(load_settings(), sources, with_ceiling=scale <= 1)
    goal_seconds = GOAL_SECONDS.get(int(scale))
    goal_gib = GOAL_PEAK_GIB.get(int(scale))
    return {
        "scale": scale,
        "seed": seed,
        "workdir": str(work),
        "prepare_seconds": round(prepare_seconds, 1),
        "seconds": measured["seconds"],
        "peak_rss_mib": measured["peak_rss_mib"],
        "within_goal": None
        if goal_seconds is None
        else measured["seconds"] <= goal_seconds and measured["peak_rss_mib"] / 1024 <= goal_gib,
        "summary": measured["summary"],
        "evaluation": scores,
    }


def prepare_inputs(
    sources: Path, warehouse: Path, *, scale: float, seed: int, days: int | None
) -> None:
    """A generated estate landed in `warehouse` with staging and the identity inputs built."""
    from ronghe.generate import generate_estate

    if not (sources / "_truth").is_dir():
        arguments: dict[str, Any] = {"scale": scale, "seed": seed}
        if days is not None:
            arguments["days"] = days
        generate_estate(sources, **arguments)
    land_and_build(sources, warehouse)


def land_and_build(sources: Path, warehouse: Path) -> None:
    """Land every source of an estate into `warehouse` and build what the identity step reads.

    Runs the extractors directly (the e-commerce API served locally over the
    estate), then dbt for staging and `intermediate/identity`. Safe to repeat
    on the same warehouse after the estate grew: the extractors land only
    what is new.
    """
    import secrets

    from extractors.ecommerce import extract_ecommerce
    from extractors.erp import extract_erp
    from extractors.pos import extract_pos
    from extractors.wms import extract_wms
    from ronghe.ecommerce_api import start_server
    from ronghe.settings import load_settings
    from ronghe.transform.dbt_invocation import run_dbt

    token = secrets.token_urlsafe(16)
    os.environ.update(
        RONGHE_WAREHOUSE=str(warehouse),
        RONGHE_SOURCES_DIR=str(sources),
        RONGHE_ERP_URL=f"sqlite:///{sources / 'erp' / 'erp.db'}",
        RONGHE_ECOM_API_TOKEN=token,
    )
    settings = load_settings()
    extract_erp(settings)
    extract_pos(settings)
    extract_wms(settings)
    with start_server(sources, token=token) as server:
        os.environ["RONGHE_ECOM_API_URL"] = server.url
        extract_ecommerce(load_settings())
    # dbt's artefacts go beside the warehouse, not into the shared project folder
    artefacts = ["--target-path", str(warehouse.parent / "dbt_target")]
    artefacts += ["--log-path", str(warehouse.parent / "dbt_logs")]
    selection = ["--select", "+intermediate.identity", "+stg_erp__items"]
    selection += ["--exclude", "test_type:data"]
    run_dbt(["build", *selection, *artefacts], load_settings())


def measure_identity_step(warehouse: Path) -> dict[str, Any]:
    """Run the identity step in a fresh process; its wall time, peak RSS and summary."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_run_step, (str(warehouse),))


def _run_step(warehouse: str) -> dict[str, Any]:
    os.environ["RONGHE_WAREHOUSE"] = warehouse
    from ronghe.identity.step import resolve
    from ronghe.settings import load_settings

    started = time.monotonic()
    summary = resolve(load_settings())
    seconds = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "summary": summary,
    }
