"""The same gate and publish on a real PostgreSQL server (GX runs natively there)."""

from __future__ import annotations

import pytest

from ronghe.quality.publish import MartsNotPublished, publish_marts
from ronghe.quality.runner import QualityGateFailed, run_quality_gate
from tests.quality.builders import (
    SALES_MART_SUITE,
    as_json,
    build_sales_warehouse,
    execute,
    query,
    sales_settings,
)

pytestmark = pytest.mark.postgres

MART = "select * from {schema}.mart_sales_daily order by sales_daily_key"


@pytest.fixture
def settings(postgres_server, tmp_path):
    url = postgres_server.create_database("ronghe_quality")
    settings = sales_settings(tmp_path, url)
    build_sales_warehouse(settings)
    return settings


def test_gate_and_publish_on_postgres(settings):
    published = publish_marts(settings, "run-good")

    assert published["status"] == "published" and published["serving_copy"] is None
    assert query(settings, MART.format(schema="marts")) == query(
        settings, MART.format(schema="marts_candidate")
    )

    execute(
        settings,
        "update marts_candidate.mart_sales_daily set units = -1 where channel_code = 'STORE'",
    )
    before = query(settings, MART.format(schema="marts"))
    with pytest.raises(MartsNotPublished, match="units_at_least_0"):
        publish_marts(settings, "run-bad")

    assert query(settings, MART.format(schema="marts")) == before
    assert query(settings, "select run_id, status from ops.publish_log order by decided_at") == [
        ("run-good", "published"),
        ("run-bad", "refused"),
    ]
    failing = query(
        settings,
        "select row_data from ops.dq_failing_rows where run_id = 'run-bad' "
        "and rule_id = 'marts.mart_sales_daily.units_at_least_0'",
    )
    assert failing and all(as_json(row)["units"] == -1 for (row,) in failing)


def test_failing_rows_evidence_on_postgres(settings):
    execute(
        settings,
        "update marts_candidate.mart_sales_daily set gross_sales = gross_sales + 1 "
        "where channel_code = 'MALL' and store_code = 'S0002'",
    )

    with pytest.raises(QualityGateFailed, match="totals_reconcile_to_order_lines"):
        run_quality_gate(SALES_MART_SUITE, settings, "run-off")

    rows = query(
        settings,
        "select unexpected_count, failing_rows_kept from ops.dq_results "
        "where rule_id = 'marts.mart_sales_daily.totals_reconcile_to_order_lines'",
    )
    assert rows == [(5, 5)]
    evidence = query(settings, "select row_data from ops.dq_failing_rows where run_id = 'run-off'")
    assert all(
        float(as_json(row)["mart_gross_sales"]) - float(as_json(row)["fact_gross_sales"]) == 1
        for (row,) in evidence
    )
