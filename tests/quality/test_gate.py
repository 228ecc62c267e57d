"""The quality gate runs real GX checkpoints on a real DuckDB warehouse and keeps all evidence."""

from __future__ import annotations

import duckdb
import pytest
import sqlalchemy as sa

from extractors.ops_tables import OPS_TABLES
from ronghe.quality.runner import QualityGateFailed, run_quality_gate
from tests.quality.builders import (
    SALES_MART_SUITE,
    as_json,
    build_sales_warehouse,
    execute,
    query,
    sales_settings,
)


@pytest.fixture
def settings(tmp_path):
    settings = sales_settings(tmp_path)
    build_sales_warehouse(settings)
    return settings


def test_a_clean_build_passes_and_every_rule_leaves_a_result(settings):
    summary = run_quality_gate(SALES_MART_SUITE, settings, "run-clean")

    assert summary["success"] and not summary["blocking_failures"]
    stored = query(
        settings,
        "select rule_id, success, severity, suite_version, data_version from ops.dq_results "
        "where run_id = 'run-clean'",
    )
    assert len(stored) == summary["rules"] >= 6
    assert all(success for _, success, *_ in stored)
    assert {severity for _, _, severity, *_ in stored} == {"block"}
    rule_ids = {rule_id for rule_id, *_ in stored}
    assert "marts.mart_sales_daily.totals_reconcile_to_order_lines" in rule_ids
    data_version = as_json(stored[0][4])
    assert data_version["row_count"] > 0


def test_a_broken_mart_fails_naming_the_rules_and_showing_failing_rows(settings):
    execute(
        settings,
        "update marts_candidate.mart_sales_daily set units = -7 "
        "where channel_code = 'MALL' and sales_date = date '2025-03-02'",
    )

    with pytest.raises(QualityGateFailed) as failure:
        run_quality_gate(SALES_MART_SUITE, settings, "run-broken")

    message = str(failure.value)
    assert "marts.mart_sales_daily.units_at_least_0" in message
    assert "marts.mart_sales_daily.totals_reconcile_to_order_lines" in message
    assert '"units": -7' in message and "2025-03-02" in message
    assert set(failure.value.summary["blocking_failures"]) == {
        "marts.mart_sales_daily.units_at_least_0",
        "marts.mart_sales_daily.totals_reconcile_to_order_lines",
    }
    kept = query(
        settings,
        "select rule_id, row_data from ops.dq_failing_rows where run_id = 'run-broken' "
        "order by rule_id",
    )
    reconcile = [as_json(row) for rule, row in kept if rule.endswith("reconcile_to_order_lines")]
    assert [(r["sales_date"], r["channel_code"], r["mart_units"]) for r in reconcile] == [
        ("2025-03-02", "MALL", -14)
    ]
    negative = [as_json(row) for rule, row in kept if rule.endswith("units_at_least_0")]
    assert {r["units"] for r in negative} == {-7} and len(negative) == 2


def test_a_failing_sql_rule_runs_its_query_once_for_verdict_and_evidence(settings):
    execute(
        settings,
        "update marts_candidate.mart_sales_daily set units = units + 1 "
        "where channel_code = 'STORE' and sales_date = date '2025-03-03'",
    )
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    try:
        with pytest.raises(QualityGateFailed):
            run_quality_gate(SALES_MART_SUITE, settings, "run-once")
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", record)

    # the reconciliation's query opens with `with mart as`; it ran once, kept its rows
    assert len([s for s in statements if "with mart as" in s]) == 1
    stored = query(
        settings,
        "select unexpected_count, failing_rows_kept, failing_rows_query from ops.dq_results "
        "where run_id = 'run-once' and rule_id like '%totals_reconcile_to_order_lines'",
    )
    assert [(count, kept) for count, kept, _ in stored] == [(1, 1)]
    assert "with mart as" in stored[0][2]  # the auditor still sees the rule's own query
    (kept,) = query(
        settings,
        "select row_data from ops.dq_failing_rows where run_id = 'run-once' "
        "and rule_id like '%totals_reconcile_to_order_lines'",
    )
    row = as_json(kept[0])
    assert (row["sales_date"], row["channel_code"]) == ("2025-03-03", "STORE")
    assert row["mart_units"] == row["fact_units"] + 2  # one more unit in each store


def test_results_accumulate_across_runs_and_are_never_overwritten(settings):
    run_quality_gate(SALES_MART_SUITE, settings, "run-1")
    first = query(settings, "select * from ops.dq_results order by rule_id")
    execute(settings, "update marts_candidate.mart_sales_daily set orders = -1")
    with pytest.raises(QualityGateFailed):
        run_quality_gate(SALES_MART_SUITE, settings, "run-2")

    runs = query(
        settings,
        "select run_id, count(*), sum(case when success then 0 else 1 end) "
        "from ops.dq_results group by run_id order by run_id",
    )
    assert [run for run, *_ in runs] == ["run-1", "run-2"]
    assert runs[0][2] == 0 and runs[1][2] == 1
    assert (
        query(settings, "select * from ops.dq_results where run_id = 'run-1' order by rule_id")
        == first
    )
    assert query(settings, "select count(distinct validation_id) from ops.dq_validations") == [(2,)]


def test_a_missing_table_is_a_blocking_failure_that_says_so(settings):
    execute(settings, "drop table marts_candidate.mart_sales_daily")

    with pytest.raises(QualityGateFailed, match="does not exist"):
        run_quality_gate(SALES_MART_SUITE, settings, "run-missing")


def test_a_rule_configured_as_warn_is_recorded_but_does_not_block(settings, tmp_path):
    settings = sales_settings(
        tmp_path, severity_overrides={"marts.mart_sales_daily.orders_at_least_0": "warn"}
    )
    execute(settings, "update marts_candidate.mart_sales_daily set orders = -1")

    summary = run_quality_gate(SALES_MART_SUITE, settings, "run-warn")

    assert summary["success"]
    assert summary["warnings"] == ["marts.mart_sales_daily.orders_at_least_0"]
    assert query(
        settings,
        "select severity, success, unexpected_count from ops.dq_results "
        "where rule_id = 'marts.mart_sales_daily.orders_at_least_0'",
    ) == [("warn", False, 30)]


def test_unknown_layers_or_suites_are_refused(settings):
    with pytest.raises(ValueError, match="unknown quality layers or suites"):
        run_quality_gate(["marts", "no_such_suite"], settings, "run-x")


def test_raw_tables_are_checked_against_the_contract(tmp_path):
    settings = sales_settings(tmp_path)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("create schema ops")
        for table, columns in OPS_TABLES.items():
            connection.execute(f"create table ops.{table} ({columns})")
        connection.execute("create schema raw")
        # `tier` is missing, `_origin_line` arrived as text, one dealer has no code
        connection.execute(
            "create table raw.erp_dealer as select * from (values "
            "('D0001', 'Dealer one', 'SH', 'Shanghai', '2025-01-01', 'b1', 'erp/erp_dealer', '1', "
            " timestamp '2025-01-02 00:00:00'), "
            "('  ', 'Dealer two', 'SH', 'Shanghai', '2025-01-01', 'b1', 'erp/erp_dealer', '2', "
            " timestamp '2025-01-02 00:00:00')) as t(dealer_code, dealer_name, "
            "registered_province, registered_city, updated_at, _batch_id, _origin, _origin_line, "
            "_loaded_at)"
        )
        connection.execute(
            "insert into ops.load_ledger values ('b1', 'erp', 'dealer', 'erp/erp_dealer', "
            "'landing', 2, 2, 0, 0, 0)"
        )

    with pytest.raises(QualityGateFailed) as failure:
        run_quality_gate(["raw.erp_dealer"], settings, "run-raw")

    assert set(failure.value.summary["blocking_failures"]) == {
        "raw.erp_dealer.columns_present",
        "raw.erp_dealer.column_types",
        "raw.erp_dealer.required_values_present",
    }
    observed = dict(
        query(
            settings, "select rule_id, observed_value from ops.dq_results where run_id = 'run-raw'"
        )
    )
    assert set(as_json(observed["raw.erp_dealer.column_types"])) == {"_origin_line"}
    assert "raw.erp_dealer.rows_match_ledger" in observed
    missing_code = query(
        settings,
        "select row_data from ops.dq_failing_rows "
        "where rule_id = 'raw.erp_dealer.required_values_present'",
    )
    assert [(as_json(row)["_origin"], as_json(row)["_origin_line"]) for (row,) in missing_code] == [
        ("erp/erp_dealer", "2")
    ]


def test_an_alert_whose_ratio_rounds_onto_its_threshold_is_accepted(settings):
    # 4499 / 4999 is 10.002% under the store price: a parity break, stored as 0.9000.
    execute(
        settings,
        "create table marts_candidate.mart_alerts_for_review ("
        " alert_type varchar, subject_key varchar,"
        " observed_ratio decimal(18, 4), threshold decimal(18, 4))",
        "insert into marts_candidate.mart_alerts_for_review values"
        " ('PRICE_PARITY_BREAK', 'I1/JD/2025-09-11', 0.9000, 0.1000),"
        " ('STORE_DAY_SPIKE', 'S1/2025-03-04', 3.0000, 3.0000)",
    )
    suite = "marts.mart_alerts_for_review"
    assert run_quality_gate(suite, settings, "run-rounded")["success"]

    execute(
        settings,
        "insert into marts_candidate.mart_alerts_for_review values"
        " ('PRICE_PARITY_BREAK', 'I2/JD/2025-09-11', 0.9500, 0.1000)",
    )
    with pytest.raises(QualityGateFailed) as failure:
        run_quality_gate(suite, settings, "run-within-tolerance")
    assert "I2/JD/2025-09-11" in str(failure.value)
    assert "I1/JD/2025-09-11" not in str(failure.value)
