"""The member golden record's survivorship rules, through dbt's own unit tests.

The rules live in intermediate.int_member_golden_record
(dbt_project/models/unified/restricted); unified.dim_member masks it. The
unit tests need the two staging views the golden record reads to exist, so the
test creates schema `identity` in a fresh DuckDB, builds those views and the
golden record, then runs every dbt unit test of both models.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ronghe.identity.schema import ensure_schema
from ronghe.identity.store import DuckDBWarehouse
from ronghe.settings import load_settings
from ronghe.transform.dbt_invocation import run_dbt


def test_golden_record_survivorship_and_dim_member_masking_unit_tests_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse_path = tmp_path / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(str(warehouse_path))
    ensure_schema(warehouse)
    warehouse.close()
    monkeypatch.setenv("RONGHE_WAREHOUSE", str(warehouse_path))
    settings = load_settings()
    target = ["--target-path", str(tmp_path / "target")]
    parents = (
        "stg_identity__member_xref",
        "stg_identity__member_records",
        "int_member_golden_record",
    )
    run_dbt(["run", *target, "--select", *parents], settings)
    unit_tests = ("int_member_golden_record,test_type:unit", "dim_member,test_type:unit")
    results = run_dbt(["test", *target, "--select", *unit_tests], settings)
    passed = {r.node.name for r in results.results if str(r.status) == "pass"}
    assert sum(name.startswith("golden_record_") for name in passed) >= 4, passed
    assert "dim_member_masks_the_golden_record" in passed, passed
