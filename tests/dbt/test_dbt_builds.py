"""How Ronghe invokes dbt: unit tests run in CI, and each invocation reuses the last parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ronghe.settings import Settings
from ronghe.transform.dbt_invocation import parse_cache, run_dbt
from tests.dbt.conftest import build_target

pytestmark = pytest.mark.slow


def test_every_dbt_unit_test_ran_and_passed_in_ci(built_warehouse: Settings) -> None:
    target = build_target(built_warehouse)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    statuses = {
        result["unique_id"]: result["status"]
        for result in results["results"]
        if result["unique_id"].startswith("unit_test.")
    }
    assert manifest["unit_tests"], "the project has dbt unit tests"
    assert statuses == dict.fromkeys(manifest["unit_tests"], "pass")


def _parse(settings: Settings, target: Path) -> str:
    # the project logs at info to the file; the parse's reuse is reported at debug
    logs = ["--log-path", str(target / "logs"), "--log-level-file", "debug"]
    run_dbt(["parse", "--target-path", str(target), *logs], settings)
    return (target / "logs" / "dbt.log").read_text(encoding="utf-8")


def test_an_invocation_with_a_fresh_target_path_reuses_the_last_parse(
    built_warehouse: Settings, tmp_path: Path
) -> None:
    parse_cache(built_warehouse).unlink(missing_ok=True)
    first = _parse(built_warehouse, tmp_path / "first")
    assert "Starting full parse" in first
    assert parse_cache(built_warehouse).is_file()

    second = _parse(built_warehouse, tmp_path / "second")
    assert "Starting full parse" not in second
    assert "Partial parsing enabled, no changes found, skipping parsing" in second


def test_the_log_file_keeps_results_and_leaves_statements_to_the_target(
    built_warehouse: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    logs = ["--log-path", str(target / "logs")]
    run_dbt(
        ["build", "--select", "dim_channel", "--target-path", str(target), *logs], built_warehouse
    )

    log = (target / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "OK created sql table model unified.dim_channel" in log
    assert "[debug]" not in log
    assert "create table" not in log.lower()
    compiled = (target / "run" / "ronghe").rglob("dim_channel.sql")
    assert any("create" in path.read_text(encoding="utf-8").lower() for path in compiled)
