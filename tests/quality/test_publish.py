"""Write-audit-publish: the marts switch to a new build only when its blocking checks pass."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pytest

from ronghe.quality.publish import MartsNotPublished, publish_marts, serving_copy_path
from tests.quality.builders import (
    as_json,
    build_sales_warehouse,
    execute,
    query,
    sales_settings,
)

MART = "select * from {schema}.mart_sales_daily order by sales_daily_key"


@pytest.fixture
def settings(tmp_path):
    settings = sales_settings(tmp_path)
    build_sales_warehouse(settings)
    return settings


def _serving_rows(settings):
    with duckdb.connect(str(serving_copy_path(settings)), read_only=True) as connection:
        rows = connection.execute(MART.format(schema="marts")).fetchall()
        version = connection.execute("select data_version from marts._publish").fetchone()[0]
    return rows, version


def test_a_clean_build_is_published_logged_and_served(settings):
    summary = publish_marts(settings, "run-1")

    assert summary["status"] == "published"
    assert summary["tables"] == {"mart_sales_daily": 30}
    candidate = query(settings, MART.format(schema="marts_candidate"))
    assert query(settings, MART.format(schema="marts")) == candidate
    log = query(settings, "select run_id, status, data_version, tables from ops.publish_log")
    assert [(run, status, version) for run, status, version, _ in log] == [
        ("run-1", "published", summary["data_version"])
    ]
    assert as_json(log[0][3]) == {"mart_sales_daily": 30}
    served, served_version = _serving_rows(settings)
    assert len(served) == 30 and served_version == summary["data_version"]


def test_publishing_the_same_build_twice_gives_the_same_data_version(settings):
    first = publish_marts(settings, "run-1")
    second = publish_marts(settings, "run-2")

    assert first["data_version"] == second["data_version"]
    assert query(settings, "select count(*) from ops.publish_log") == [(2,)]


def test_a_broken_build_leaves_the_last_good_marts_and_says_why(settings):
    good = publish_marts(settings, "run-good")
    published_before = query(settings, MART.format(schema="marts"))
    served_before = _serving_rows(settings)
    execute(
        settings,
        "update marts_candidate.mart_sales_daily set units = -units "
        "where channel_code = 'TMALL' and sales_date = date '2025-03-04'",
    )

    with pytest.raises(MartsNotPublished) as refusal:
        publish_marts(settings, "run-bad")

    message = str(refusal.value)
    assert "last good marts stay in place" in message
    assert "marts.mart_sales_daily.units_at_least_0" in message
    assert "marts.mart_sales_daily.totals_reconcile_to_order_lines" in message
    assert "2025-03-04" in message and "TMALL" in message
    assert query(settings, MART.format(schema="marts")) == published_before
    assert _serving_rows(settings) == served_before
    log = query(
        settings,
        "select run_id, status, data_version, failed_rules from ops.publish_log "
        "order by decided_at",
    )
    assert [(run, status) for run, status, *_ in log] == [
        ("run-good", "published"),
        ("run-bad", "refused"),
    ]
    assert log[0][2] == good["data_version"]
    assert set(as_json(log[1][3])) == {
        "marts.mart_sales_daily.units_at_least_0",
        "marts.mart_sales_daily.totals_reconcile_to_order_lines",
    }
    evidence = query(
        settings,
        "select rule_id, row_data from ops.dq_failing_rows where run_id = 'run-bad'",
    )
    assert any(
        as_json(row)["sales_date"] == "2025-03-04" and as_json(row)["units"] < 0
        for rule, row in evidence
        if rule.endswith("units_at_least_0")
    )


def test_a_publish_that_fails_midway_changes_nothing(settings, tmp_path):
    settings = sales_settings(tmp_path, publish__require_suite_per_mart=False)
    execute(settings, "create table marts_candidate.zz_extra as select 1 as x")
    publish_marts(settings, "run-good")
    published_before = query(settings, MART.format(schema="marts"))
    # The second table's copy fails inside the transaction (the published
    # table carries a constraint the new rows break), after the first table
    # was already replaced: the whole publish must roll back.
    execute(
        settings,
        "drop table marts.zz_extra",
        "create table marts.zz_extra (x integer check (x > 0))",
        "insert into marts.zz_extra values (1)",
        "update marts_candidate.zz_extra set x = -1",
        "update marts_candidate.mart_sales_daily set store_code = 'S9999'",
    )

    with pytest.raises(MartsNotPublished, match=r"(?i)rolled back.*constraint"):
        publish_marts(settings, "run-midway")

    assert query(settings, MART.format(schema="marts")) == published_before
    assert query(settings, "select x from marts.zz_extra") == [(1,)]
    assert query(settings, "select status from ops.publish_log order by decided_at") == [
        ("published",),
        ("failed",),
    ]
    leftovers = [p.name for p in serving_copy_path(settings).parent.iterdir() if ".tmp" in p.name]
    assert leftovers == []


def test_a_candidate_table_without_a_suite_is_not_published(settings):
    execute(settings, "create table marts_candidate.mart_unchecked as select 1 as x")

    with pytest.raises(MartsNotPublished, match="mart_unchecked"):
        publish_marts(settings, "run-unchecked")

    assert query(
        settings, "select count(*) from information_schema.tables where table_schema = 'marts'"
    ) == [(0,)]


def test_a_bi_reader_holding_the_serving_copy_does_not_block_a_publish(settings):
    publish_marts(settings, "run-1")
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, duckdb
                connection = duckdb.connect({str(serving_copy_path(settings))!r}, read_only=True)
                print(connection.execute("select data_version from marts._publish").fetchone()[0])
                sys.stdout.flush()
                sys.stdin.readline()
                print(connection.execute("select data_version from marts._publish").fetchone()[0])
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        version_read = reader.stdout.readline().strip()
        execute(settings, "update marts_candidate.mart_sales_daily set orders = orders + 1")
        second = publish_marts(settings, "run-2")
        reader_after, _ = reader.communicate("\n", timeout=60)
    finally:
        reader.kill()

    assert second["data_version"] != version_read
    assert reader_after.strip() == version_read
    assert _serving_rows(settings)[1] == second["data_version"]
