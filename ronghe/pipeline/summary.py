"""The summary `ronghe run` prints at the end of a successful run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ronghe.evaluate.rows import rows_by_layer
from ronghe.settings import Settings


def print_summary(settings: Settings, log_path: Path) -> None:
    layers = rows_by_layer(settings)
    print("\nRows per layer")
    for layer, tables in layers.items():
        print(f"  {layer:<16} {sum(tables.values()):>12,} rows in {len(tables)} tables")
    record = latest_run_record(settings.home)
    skipped = (record or {}).get("steps", {}).get("check_inputs")
    if skipped and not skipped["rebuild"]:
        # Nothing was rebuilt: the checks and reports are those of the run it matches.
        print(f"\n{skipped['reason']}")
        record = run_record(settings.home, skipped["matches_run"]) or record
    steps = record.get("steps", {}) if record else {}
    if steps.get("check_inputs", {}).get("full_refresh"):
        print("\nFull refresh: every incremental model was rebuilt from the raw layer")
    if steps:
        _print_checks(steps)
    reports = steps.get("reports", {})
    print("\nWhere things are")
    print(f"  warehouse        {settings.warehouse}")
    published = steps.get("publish", {})
    if published.get("serving_copy"):
        print(f"  marts for BI     {published['serving_copy']}")
    if reports:
        print(f"  quality report   {reports['quality_report']}")
        print(f"  Data Docs        {reports['data_docs']}")
        print(f"  lineage report   {reports['lineage_report']}")
    print(f"  run record       {record['path'] if record else settings.home / 'reports'}")
    print(f"  Airflow log      {log_path}")


def latest_run_record(home: Path) -> dict[str, Any] | None:
    """The newest record the transform DAG's report task wrote, with its path."""
    records = sorted((home / "reports" / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
    if not records:
        return None
    record = json.loads(records[-1].read_text(encoding="utf-8"))
    record["path"] = str(records[-1])
    return record


def run_record(home: Path, run_id: str) -> dict[str, Any] | None:
    """The record of one transform run, with its path; None if it was not kept."""
    from ronghe.orchestration.steps import run_record_path

    path = run_record_path(home, run_id)
    if not path.exists():
        return None
    return {**json.loads(path.read_text(encoding="utf-8")), "path": str(path)}


def _print_checks(steps: dict[str, Any]) -> None:
    gates = {
        "landed data": steps.get("quality_landed"),
        "unified + marts": steps.get("publish", {}).get("gate"),
    }
    print("\nQuality checks (blocking rules stop the run; warnings are reported)")
    for name, gate in gates.items():
        if not gate:
            continue
        failed = gate["rules"] - gate["passed"]
        print(
            f"  {name:<16} {gate['rules']:>4} rules  {gate['passed']:>4} passed  "
            f"{failed:>4} failed ({len(gate['blocking_failures'])} blocking, "
            f"{len(gate['warnings'])} warnings)"
        )
    published = steps.get("publish", {})
    if published:
        print(f"  marts            {published.get('status', 'unknown')}")
