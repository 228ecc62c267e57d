"""dim_member's survivorship rules, through dbt's own unit tests (dbt_project/models/unified).

The unit tests need the two staging views dim_member reads to exist, so the
test creates schema `identity` in a fresh DuckDB, builds those views, then
runs every dbt unit test of dim_member.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ronghe.identity.schema import ensure_schema
from ronghe.identity.store import DuckDBWarehouse
from ronghe.settings import load_settings
from ronghe.transform.dbt_invocation import run_dbt


def test_dim_member_survivorship_unit_tests_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse_path = tmp_path / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(str(warehouse_path))
    ensure_schema(warehouse)
    warehouse.close()
    monkeypatch.setenv("RONGHE_WAREHOUSE", str(warehouse_path))
    settings = load_settings()
    target = ["--target-path", str(tmp_path / "target")]
    parents = "stg_identity__member_xref stg_identity__member_records"
    run_dbt(["run", *target, "--select", parents], settings)
    results = run_dbt(["test", *target, "--select", "dim_member,test_type:unit"], settings)
    passed = [r.node.name for r in results.results if str(r.status) == "pass"]
    assert len(passed) >= 4, passed
