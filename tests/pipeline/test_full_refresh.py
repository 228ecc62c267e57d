"""`ronghe run --full-refresh`: incremental facts follow a changed business-rule threshold.

An incremental build only rebuilds the rows new data touches, so after a
threshold in the configuration changes, the rows built before keep the old
verdict. A full refresh rebuilds them all from the raw layer. The threshold
here is `stock_balance_tolerance_units`, which `fct_inventory_daily` (an
incremental fact) applies to each snapshot's `discrepancy_units`.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from ronghe.settings import REPO_ROOT
from ronghe.transform.dbt_invocation import release_duckdb_file
from tests.dbt.pipeline import build, settings_for

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

THRESHOLD = "stock_balance_tolerance_units"


def ronghe_run(sources: Path, home: Path, config: Path, *flags: str) -> str:
    environment = {**os.environ, "RONGHE_HOME": str(home), "RONGHE_CONFIG": str(config)}
    environment.pop("RONGHE_ECOM_API_URL", None)
    command = [sys.executable, "-m", "ronghe.cli", "run", "--sources", str(sources)]
    command += ["--warehouse", str(home / "warehouse.duckdb"), "--home", str(home), *flags]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def stale_verdicts(warehouse: Path, tolerance: int) -> int:
    """Inventory rows whose discrepancy flag does not follow `tolerance`."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (stale,) = connection.execute(
            "select count(*) from unified.fct_inventory_daily"
            " where is_discrepancy <> coalesce(abs(discrepancy_units) > ?, false)",
            [tolerance],
        ).fetchone()
    return stale


def flagged(warehouse: Path) -> tuple[int, int]:
    """(rows flagged as discrepancies, largest absolute discrepancy)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            "select count(*) filter (where is_discrepancy), max(abs(discrepancy_units))"
            " from unified.fct_inventory_daily"
        ).fetchone()


def test_full_refresh_rebuilds_rows_built_under_an_old_threshold(tmp_path: Path) -> None:
    sources, home = tmp_path / "sources", tmp_path / "home"
    generate = [sys.executable, "-m", "ronghe.cli", "generate", "--scale", "0.02"]
    generate += ["--seed", "7", "--days", "10", "--out", str(sources)]
    subprocess.run(generate, check=True, capture_output=True, timeout=300)
    config = tmp_path / "ronghe.yml"
    rules = yaml.safe_load((REPO_ROOT / "config" / "ronghe.yml").read_text(encoding="utf-8"))
    config.write_text(yaml.safe_dump(rules), encoding="utf-8")
    warehouse = home / "warehouse.duckdb"

    ronghe_run(sources, home, config)
    discrepancies, largest = flagged(warehouse)
    assert discrepancies > 0, "the estate needs stock discrepancies for this test to mean anything"
    old_tolerance = rules["business_rules"][THRESHOLD]
    assert stale_verdicts(warehouse, old_tolerance) == 0

    # Tolerate every discrepancy the estate has: no row should stay flagged.
    rules["business_rules"][THRESHOLD] = int(largest)
    config.write_text(yaml.safe_dump(rules), encoding="utf-8")

    # An incremental build under the new threshold keeps the rows built before it.
    settings = settings_for(sources, str(warehouse), home)
    settings = dataclasses.replace(settings, config_path=config)
    build(settings, tmp_path / "target", "--select", "fct_inventory_daily")
    release_duckdb_file()
    assert stale_verdicts(warehouse, int(largest)) > 0

    output = ronghe_run(sources, home, config, "--full-refresh")
    assert stale_verdicts(warehouse, int(largest)) == 0
    assert flagged(warehouse)[0] == 0
    assert "full refresh" in output.lower()
