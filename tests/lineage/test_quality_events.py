"""Quality checkpoints as lineage: each suite's latest verdict on its dataset, rule by rule."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import sqlalchemy as sa

from ronghe.lineage.graph import build_graph
from ronghe.lineage.quality_events import emit_quality_lineage
from ronghe.lineage.validation import validate_events_dir
from ronghe.quality import store
from ronghe.quality.connection import warehouse_url
from ronghe.settings import load_settings

RUN = "manual__2025-03-02T03:00:00+00:00"


def _validation(validation_id: str, suite: str, dataset: str, layer: str, at: datetime) -> dict:
    return {
        "validation_id": validation_id,
        "run_id": RUN,
        "validated_at": at,
        "layer": layer,
        "suite": suite,
        "suite_version": "1",
        "dataset": dataset,
        "success": False,
        "blocking_failures": 1,
        "warnings": 0,
        "evaluated": 2,
        "data_version": None,
        "gx_result": None,
    }


def _result(validation_id: str, rule_id: str, success: bool, at: datetime) -> dict:
    return {
        "validation_id": validation_id,
        "run_id": RUN,
        "validated_at": at,
        "layer": "raw",
        "suite": "raw.pos_lines",
        "suite_version": "1",
        "dataset": "raw.pos_lines",
        "rule_id": rule_id,
        "kind": "required",
        "expectation_type": "expect_query_to_return_no_rows",
        "severity": "block",
        "success": success,
        "meaning": "Every line has its keys.",
        "observed_value": None,
        "element_count": 10,
        "unexpected_count": 0 if success else 3,
        "unexpected_percent": None,
        "data_version": None,
        "sample_failing_rows": None,
        "failing_rows_kept": None,
        "failing_rows_query": None,
        "error": None,
    }


def test_the_latest_validation_of_each_suite_becomes_a_checkpoint_event(tmp_path):
    settings = dataclasses.replace(
        load_settings(), home=tmp_path / "home", warehouse=str(tmp_path / "w.duckdb")
    )
    first = datetime(2025, 3, 2, 3, 0)
    engine = sa.create_engine(warehouse_url(settings))
    with engine.begin() as connection:
        store.ensure_tables(connection)
        # A first try of the suite, then the re-run that counts.
        store.write_validation(
            connection,
            _validation("v1", "raw.pos_lines", "raw.pos_lines", "raw", first),
            [_result("v1", "raw.pos_lines.has_rows", False, first)],
        )
        later = first + timedelta(minutes=5)
        store.write_validation(
            connection,
            _validation("v2", "raw.pos_lines", "raw.pos_lines", "raw", later),
            [
                _result("v2", "raw.pos_lines.has_rows", True, later),
                _result("v2", "raw.pos_lines.required_values_present", False, later),
            ],
        )
        store.write_validation(
            connection,
            _validation(
                "v3", "marts.mart_sales_daily", "marts_candidate.mart_sales_daily", "marts", later
            ),
            [],
        )
    engine.dispose()

    assert emit_quality_lineage(settings, RUN, ["raw", "staging"]) == 1
    assert validate_events_dir(settings.home) == []
    (checkpoint,) = build_graph(settings.home).checkpoints()
    assert checkpoint == {
        "suite": "raw.pos_lines",
        "dataset": "raw.pos_lines",
        "checked_at": "2025-03-02T03:05:00Z",
        "rules": 2,
        "failed": ["raw.pos_lines.required_values_present (block)"],
    }
