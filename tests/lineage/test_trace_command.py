"""The `ronghe trace` command, as an auditor runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

# Over a generated estate landed and built with dbt (the session fixture).
pytestmark = pytest.mark.slow

SCHEMA = "marts_candidate"


def test_the_trace_command_prints_the_file_and_line(lineage_estate):
    settings = lineage_estate.settings
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        sales_date, store = con.execute(
            f"select cast(sales_date as varchar), store_code from {SCHEMA}.mart_sales_daily "
            "where channel_code = 'STORE' order by orders desc, sales_daily_key limit 1"
        ).fetchone()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ronghe.cli",
            "trace",
            "--warehouse",
            settings.warehouse,
            "sales-daily",
            "--date",
            sales_date[:10],
            "--channel",
            "STORE",
            "--store",
            store,
            "--schema",
            SCHEMA,
        ],
        env={**os.environ, "RONGHE_SOURCES_DIR": str(settings.sources_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"file {settings.sources_dir}/pos/{store}/" in result.stdout
    assert "NO" not in result.stdout.split("counted lines")[0]
