"""The compiled-SQL bound of a dbt layer runs what dbt ran, in an order dependencies allow."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from ronghe.bench.dbt import compiled_plan, run_compiled


def _node(name: str, materialized: str, sql: str, schema: str = "staging") -> dict:
    return {
        "database": "warehouse",
        "schema": schema,
        "relation_name": f'"warehouse"."{schema}"."{name}"',
        "config": {"materialized": materialized},
        "compiled_code": sql,
    }


def _result(unique_id: str, finished: str) -> dict:
    timing = [{"name": "execute", "completed_at": f"2026-01-01T00:00:{finished}Z"}]
    return {"unique_id": unique_id, "timing": timing}


def _write_target(target: Path) -> None:
    nodes = {
        "model.ronghe.stg_a": _node("stg_a", "view", "select 1 as id union all select 2"),
        "model.ronghe.int_b": _node(
            "int_b", "incremental", 'select id from "warehouse"."staging"."stg_a"', "intermediate"
        ),
        "model.ronghe.eph": _node("eph", "ephemeral", "select 1"),
        "test.ronghe.not_null_int_b_id": {
            "compiled_code": 'select * from "warehouse"."intermediate"."int_b" where id is null'
        },
    }
    # dbt finished the nodes in this order, listed here in another
    results = [
        _result("test.ronghe.not_null_int_b_id", "03"),
        _result("model.ronghe.int_b", "02"),
        _result("exposure.ronghe.dashboard", "04"),
        _result("model.ronghe.stg_a", "01"),
        _result("model.ronghe.eph", "01"),
        _result("unit_test.ronghe.int_b.fixture", "00"),
    ]
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
    (target / "run_results.json").write_text(json.dumps({"results": results}), encoding="utf-8")


def test_the_plan_creates_schemas_then_runs_nodes_in_dbts_finishing_order(tmp_path: Path) -> None:
    _write_target(tmp_path / "target")

    plan = compiled_plan(tmp_path / "target")

    assert (plan["models"], plan["data_tests"], plan["unit_tests"]) == (2, 1, 1)
    statements = plan["statements"]
    assert statements[:2] == [
        'create schema if not exists "warehouse"."staging"',
        'create schema if not exists "warehouse"."intermediate"',
    ]
    assert statements[2].startswith('create or replace view "warehouse"."staging"."stg_a"')
    # an incremental model's first build is a table of its full query, as dbt builds it
    assert statements[3].startswith('create or replace table "warehouse"."intermediate"."int_b"')
    assert statements[4].startswith("select count(*) from (")
    assert len(statements) == 5  # the ephemeral model is inlined, exposures run nothing


def test_the_plan_runs_on_a_warehouse_and_builds_what_dbt_would(tmp_path: Path) -> None:
    _write_target(tmp_path / "target")
    warehouse = tmp_path / "warehouse.duckdb"

    run_compiled(str(warehouse), compiled_plan(tmp_path / "target")["statements"])

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute("select id from intermediate.int_b order by id").fetchall()
    assert rows == [(1,), (2,)]
