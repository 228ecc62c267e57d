"""On a small generated estate: the gates pass, the marts publish, every injected defect is caught.

One pipeline run (generate, extract, dbt, identity, dbt; each step in its own
process, as Airflow runs them) serves every test in this module; the quality
steps run here, against that warehouse.
"""

from __future__ import annotations

import csv
import shutil

import duckdb
import pytest

from ronghe.bench.quality import build_warehouse, scan_verdicts
from ronghe.generate.estate import generate_estate
from ronghe.quality.defect_coverage import defect_coverage
from ronghe.quality.publish import MartsNotPublished, publish_marts, serving_copy_path
from ronghe.quality.runner import run_quality_gate
from tests.quality.builders import as_json, execute, query

pytestmark = pytest.mark.slow

MART = "select * from {schema}.mart_sales_daily order by sales_daily_key"


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    root = tmp_path_factory.mktemp("estate")
    sources, home = root / "sources", root / "home"
    generate_estate(sources, scale=0.01, seed=7, days=10)
    settings = build_warehouse(sources, home)
    landed = run_quality_gate(["raw", "staging"], settings, "e2e-landed")
    published = publish_marts(settings, "e2e-publish")
    return settings, sources, landed, published


def test_a_clean_estate_passes_the_gates_and_publishes(estate):
    settings, _, landed, published = estate

    assert landed["success"] and landed["rules"] > 50
    assert published["status"] == "published"
    assert published["tables"]["mart_sales_daily"] > 0
    assert published["gate"]["success"]
    # the retailer's controls found what the estate holds, as warnings
    assert {
        "unified.inventory_rules.stock_balances",
        "unified.coupon_rules.coupon_redeemed_once",
        "unified.store_day_rules.no_store_day_spike",
    } <= set(published["gate"]["warnings"])
    with duckdb.connect(str(serving_copy_path(settings)), read_only=True) as served:
        assert (
            served.execute("select data_version from marts._publish").fetchone()[0]
            == (published["data_version"])
        )


def test_published_marts_keep_dbts_descriptions(estate):
    settings, *_ = estate
    described = (
        "select count(*) filter (where comment is not null), count(*) from duckdb_columns() "
        "where schema_name = '{schema}' and table_name = 'mart_sales_daily'"
    )

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as warehouse:
        candidate = warehouse.execute(described.format(schema="marts_candidate")).fetchone()
        published = warehouse.execute(described.format(schema="marts")).fetchone()
    with duckdb.connect(str(serving_copy_path(settings)), read_only=True) as served:
        served_columns = served.execute(described.format(schema="main")).fetchone()
        (table_comment,) = served.execute(
            "select comment from duckdb_tables() where table_name = 'mart_sales_daily'"
        ).fetchone()

    assert candidate[0] == candidate[1] > 5  # every column described by dbt
    assert published == served_columns == candidate
    assert table_comment


def test_every_injected_defect_is_caught(estate):
    settings, sources, *_ = estate

    coverage = defect_coverage(settings, sources)

    with (sources / "_truth" / "defects.csv").open(encoding="utf-8") as handle:
        injected = list(csv.DictReader(handle))
    assert coverage["injected"] == len(injected) > 15
    assert coverage["not_caught"] == []
    assert coverage["coverage"] == 1.0
    assert sum(coverage["caught_by"].values()) == len(injected)


def test_defects_that_did_not_happen_are_not_reported_caught(estate, tmp_path):
    settings, sources, *_ = estate
    # The same defects, each moved to a record that does not exist.
    with (sources / "_truth" / "defects.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["record_key"] = "/".join(f"{part}X9" for part in row["record_key"].split("/"))
    (tmp_path / "_truth").mkdir()
    with (tmp_path / "_truth" / "defects.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    coverage = defect_coverage(settings, tmp_path)

    assert coverage["caught"] == 0 and len(coverage["not_caught"]) == len(rows)


def test_a_broken_build_of_the_real_marts_is_not_published(estate, tmp_path):
    settings, *_ = estate
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.warehouse_path, copy)
    settings = type(settings)(**{**settings.__dict__, "warehouse": str(copy)})
    publish_marts(settings, "e2e-good")
    published_before = query(settings, MART.format(schema="marts"))
    execute(
        settings,
        "update marts_candidate.mart_sales_daily set gross_sales = gross_sales * 2 "
        "where sales_date = (select min(sales_date) from marts_candidate.mart_sales_daily)",
    )

    with pytest.raises(MartsNotPublished, match="totals_reconcile_to_order_lines"):
        publish_marts(settings, "e2e-broken")

    assert query(settings, MART.format(schema="marts")) == published_before
    evidence = query(
        settings,
        "select row_data from ops.dq_failing_rows where run_id = 'e2e-broken' "
        "and rule_id = 'marts.mart_sales_daily.totals_reconcile_to_order_lines'",
    )
    assert evidence
    assert all(
        float(as_json(row)["mart_gross_sales"]) > float(as_json(row)["fact_gross_sales"])
        for (row,) in evidence
    )


def test_plain_sql_reaches_the_gates_verdicts(estate):
    """The benchmark's baseline computes the same checks; it must agree with GX."""
    settings, *_ = estate
    gx_verdicts = dict(
        query(
            settings,
            "select rule_id, success from ops.dq_results "
            "where run_id in ('e2e-landed', 'e2e-publish')",
        )
    )

    scanned = scan_verdicts(settings)["verdicts"]

    assert {rule: scanned[rule] for rule in gx_verdicts} == gx_verdicts
    assert "unified.inventory_rules.stock_balances" in {
        r for r, ok in gx_verdicts.items() if not ok
    }
