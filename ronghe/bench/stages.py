"""The pipeline's stages run one by one from plain Python, each measured in a fresh process.

`PlainPipeline` holds one estate and one warehouse. `run()` lands what the
estate holds that is new, builds the dbt layers either side of the identity
step and runs the quality gates, in the transform DAG's order, and reports
each stage's wall time and peak memory. Asked to, it also measures a stage's
lower bound on the same data in the same run (see `ronghe.bench.dbt` and
`ronghe.bench.quality`). Run again after the estate grew, it measures an
incremental run; run again unchanged, a run with no new data.
"""

from __future__ import annotations

import importlib
import secrets
import time
from pathlib import Path
from typing import Any

from ronghe.bench.dbt import bench_dbt_layer
from ronghe.bench.measure import measure, settings_under
from ronghe.bench.quality import GOAL_RATIO as QUALITY_GOAL_RATIO
from ronghe.bench.quality import GOAL_SLACK_SECONDS as QUALITY_GOAL_SLACK

# In the order the transform DAG runs them; each needs the ones before it.
PLAIN_STAGES = ("extract", "staging", "identity", "unified", "quality")
OFFLINE_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "SCARF_ANALYTICS": "false",
}


class PlainPipeline:
    """One estate and its warehouse under `work_dir`."""

    def __init__(self, sources: Path, work_dir: Path) -> None:
        self.sources = Path(sources).resolve()
        self.work_dir = Path(work_dir).resolve()
        self.warehouse = self.work_dir / "warehouse.duckdb"
        self.env = {
            **OFFLINE_ENV,
            "RONGHE_HOME": str(self.work_dir / "home"),
            "RONGHE_SOURCES_DIR": str(self.sources),
            "RONGHE_WAREHOUSE": str(self.warehouse),
            "RONGHE_ERP_URL": f"sqlite:///{self.sources / 'erp' / 'erp.db'}",
        }

    def run(self, label: str, upto: str, bounds: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Stages up to `upto` in order; `bounds` names the stages measured against their bound."""
        stages = PLAIN_STAGES[: PLAIN_STAGES.index(upto) + 1]
        raw_before = self.raw_rows()
        measured: dict[str, Any] = {}
        parse_seconds = 0.0
        for stage in stages:
            if stage == "staging":
                parse_seconds = self._parse(label)
            measured[stage] = self._stage(stage, label, stage in bounds)
        raw_after = self.raw_rows()
        return {
            "stages": measured,
            "dbt_parse_seconds": parse_seconds,
            "raw_rows": raw_after,
            "raw_rows_landed": raw_after - raw_before,
            "seconds": round(parse_seconds + sum(m["seconds"] for m in measured.values()), 2),
        }

    def _parse(self, label: str) -> float:
        """The dbt parse that precedes the transform in `ronghe run`; its seconds."""
        parsed = measure(
            "ronghe.bench.dbt:parse_project", env=self.env, log=self._log(label, "dbt-parse")
        )
        return parsed["seconds"]

    def raw_rows(self) -> int:
        """Rows in the warehouse's raw tables (0 before anything landed)."""
        import duckdb

        if not self.warehouse.exists():
            return 0
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            tables = connection.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
            return sum(
                connection.execute(f'select count(*) from raw."{name}"').fetchone()[0]
                for (name,) in tables
            )

    def _stage(self, stage: str, label: str, with_bound: bool) -> dict[str, Any]:
        if stage == "extract":
            return self._extract(label)
        if stage in ("staging", "unified"):
            if with_bound:
                return bench_dbt_layer(stage, self.warehouse, self.env, self.work_dir / label)
            target = self.work_dir / label / f"dbt-{stage}"
            built = measure(
                "ronghe.bench.dbt:build_layer",
                stage,
                str(target),
                env=self.env,
                log=self._log(label, stage),
            )
            return _plain(built)
        if stage == "identity":
            resolved = measure(
                "ronghe.bench.stages:resolve_identity", env=self.env, log=self._log(label, stage)
            )
            return _plain(resolved)
        return self._quality(label, with_bound)

    def _log(self, label: str, stage: str) -> Path:
        return self.work_dir / label / "logs" / f"{stage}.log"

    def _extract(self, label: str) -> dict[str, Any]:
        from ronghe.ecommerce_api import start_server

        token = secrets.token_urlsafe(16)
        with start_server(self.sources, token=token) as server:
            api = {"RONGHE_ECOM_API_URL": server.url, "RONGHE_ECOM_API_TOKEN": token}
            measured = measure(
                "ronghe.bench.stages:extract_all",
                env={**self.env, **api},
                log=self._log(label, "extract"),
            )
        return {**_plain(measured), "sources": measured["result"]}

    def _quality(self, label: str, with_bound: bool) -> dict[str, Any]:
        settings = settings_under(self.env)
        gates = measure(
            "ronghe.bench.quality:_run_gates",
            settings,
            f"bench-{label}",
            env=self.env,
            log=self._log(label, "quality"),
        )
        measured = {
            "seconds": gates["result"]["seconds"],
            "import_seconds": gates["result"]["import_seconds"],
            "peak_rss_mib": gates["peak_rss_mib"],
            "seconds_by_layer": gates["result"]["by_layer"],
        }
        if not with_bound:
            return measured
        scan = measure(
            "ronghe.bench.quality:scan_verdicts",
            settings,
            env=self.env,
            log=self._log(label, "quality-sql"),
        )
        verdicts, scanned = gates["result"]["verdicts"], scan["result"]["verdicts"]
        disagreements = sorted(
            r for r in set(verdicts) | set(scanned) if verdicts.get(r) != scanned.get(r)
        )
        floor = scan["result"]["seconds"]
        budget = QUALITY_GOAL_RATIO * floor + QUALITY_GOAL_SLACK
        return {
            **measured,
            "rules": len(verdicts),
            "lower_bound_seconds": floor,
            "lower_bound_peak_rss_mib": scan["peak_rss_mib"],
            "ratio": round(measured["seconds"] / floor, 2) if floor else None,
            "goal_seconds": round(budget, 2),
            "goal_met": measured["seconds"] <= budget,
            "verdicts_agree": not disagreements,
            "disagreements": disagreements,
        }


def _plain(measured: dict[str, Any]) -> dict[str, Any]:
    return {"seconds": measured["seconds"], "peak_rss_mib": measured["peak_rss_mib"]}


def extract_all() -> dict[str, Any]:
    """Every source's extractor in the extract DAGs' order; per source: seconds and counts."""
    from ronghe.orchestration.extract import extract_specs
    from ronghe.settings import load_settings

    by_source: dict[str, Any] = {}
    for spec in extract_specs():
        module_name, function_name = spec.entry_point.split(":")
        extract = getattr(importlib.import_module(module_name), function_name)
        started = time.perf_counter()
        result = extract(load_settings())
        by_source[spec.source] = {
            "seconds": round(time.perf_counter() - started, 2),
            "read": int(result.get("read", 0)),
            "loaded": int(result.get("loaded", 0)),
        }
    return by_source


def resolve_identity() -> dict[str, Any]:
    """The identity step on the configured warehouse; its summary."""
    from ronghe.identity import resolve
    from ronghe.settings import load_settings

    return resolve(load_settings())
