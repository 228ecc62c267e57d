"""`ronghe run` and `ronghe eval` on a tiny generated estate, as a user runs them.

One real run through Airflow (the five DAGs with `dag.test()`, the local
e-commerce API server, dbt through cosmos, the quality gates, the publish),
then the published figures are held against the estate's `_truth/`, and a
second run on the unchanged estate must leave the marts as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ronghe.generate import generate_estate

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

SCALE = 0.02
SEED = 7
DAYS = 10

# Lines the pipeline counts as sales: completed or returned, of store-days
# whose drop arrived within the estate's window, of orders that were paid.
COUNTED_TRUTH = """
    select channel, sum(cast(net_amount as decimal(18, 2))) as net_sales
    from read_csv('{path}', all_varchar = true)
    where status in ('COMPLETED', 'RETURNED') and settled = '1' and order_status <> 'CREATED'
    group by channel
"""
MART_BY_CHANNEL = "select channel_code, sum(net_sales) from marts.mart_sales_daily group by 1"


@dataclass(frozen=True)
class FinishedRun:
    sources: Path
    warehouse: Path
    home: Path
    output: str


def ronghe(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "RONGHE_HOME": str(home)}
    environment.pop("RONGHE_ECOM_API_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "ronghe.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def run_pipeline(run: FinishedRun) -> str:
    result = ronghe(
        "run",
        "--sources",
        str(run.sources),
        "--warehouse",
        str(run.warehouse),
        "--home",
        str(run.home),
        home=run.home,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def published_figures(warehouse: Path) -> dict[str, Decimal]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute(MART_BY_CHANNEL).fetchall())


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> FinishedRun:
    root = tmp_path_factory.mktemp("end_to_end")
    sources = root / "sources"
    generate_estate(sources, SCALE, SEED, DAYS)
    run = FinishedRun(sources, root / "warehouse.duckdb", root / "home", "")
    return FinishedRun(run.sources, run.warehouse, run.home, run_pipeline(run))


@pytest.fixture(scope="module")
def evaluation(finished_run: FinishedRun) -> dict:
    result = ronghe(
        "eval",
        "--sources",
        str(finished_run.sources),
        "--warehouse",
        str(finished_run.warehouse),
        "--json",
        home=finished_run.home,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout)


def test_the_published_sales_equal_the_truth_per_channel(finished_run: FinishedRun) -> None:
    truth_file = finished_run.sources / "_truth" / "sales_lines.csv"
    with duckdb.connect() as con:
        truth = dict(con.execute(COUNTED_TRUTH.format(path=truth_file)).fetchall())
    published = published_figures(finished_run.warehouse)
    assert set(truth) == {"STORE", "MALL", "TMALL", "JD"}
    assert published == truth


def test_bi_reads_the_same_figures_from_the_serving_copy(finished_run: FinishedRun) -> None:
    serving_copy = finished_run.warehouse.with_name("marts.duckdb")
    assert published_figures(serving_copy) == published_figures(finished_run.warehouse)


def test_the_summary_names_the_checks_and_where_the_reports_are(
    finished_run: FinishedRun,
) -> None:
    output = finished_run.output
    assert "Quality checks" in output
    assert "published" in output
    report = finished_run.home / "reports" / "quality" / "index.html"
    data_docs = finished_run.home / "reports" / "data_docs" / "index.html"
    assert f"quality report   {report}" in output
    assert report.read_text(encoding="utf-8").count("<table") > 0
    assert data_docs.is_file()


def test_eval_reports_every_layer_and_a_balanced_ledger(evaluation: dict) -> None:
    layers = evaluation["rows_by_layer"]
    for layer in ("raw", "staging", "identity", "unified", "marts"):
        assert sum(layers[layer].values()) > 0, layer
    assert layers["marts"]["mart_sales_daily"] == layers["marts_candidate"]["mart_sales_daily"]
    streams = [stream for source in evaluation["ledger"].values() for stream in source.values()]
    assert len(streams) >= 20
    for stream in streams:
        assert stream["balanced"], stream
        assert stream["read"] == (
            stream["loaded"] + stream["quarantined"] + stream["duplicate"] + stream["superseded"]
        )


def test_eval_scores_identity_and_defects(evaluation: dict) -> None:
    assert evaluation["members"]["precision"] > 0.9
    assert evaluation["products"]["mapped_share"] > 0.95
    assert evaluation["products"]["correct_share"] > 0.99
    defects = evaluation["defects"]
    assert defects["injected"] > 0
    assert defects["caught"] == defects["injected"], defects["not_caught"]


def test_a_second_run_on_the_same_estate_changes_no_figure(finished_run: FinishedRun) -> None:
    before = published_figures(finished_run.warehouse)
    with duckdb.connect(str(finished_run.warehouse), read_only=True) as con:
        raw_before = con.execute("select count(*) from raw.pos_lines").fetchone()
    with duckdb.connect(str(finished_run.warehouse), read_only=True) as con:
        publishes_before = con.execute("select count(*) from ops.publish_log").fetchone()
    output = run_pipeline(finished_run)
    # Nothing new: the transform is skipped, the marts are not even republished.
    assert "transform skipped: nothing changed since run " in output
    assert published_figures(finished_run.warehouse) == before
    with duckdb.connect(str(finished_run.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from ops.publish_log").fetchone() == publishes_before
    with duckdb.connect(str(finished_run.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.pos_lines").fetchone() == raw_before
