"""Evidence reaches auditors: GX Data Docs and the static HTML report, built from the warehouse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ronghe.quality.data_docs import build_data_docs
from ronghe.quality.publish import MartsNotPublished, publish_marts
from ronghe.quality.report import build_quality_report
from tests.quality.builders import build_sales_warehouse, execute, sales_settings


@pytest.fixture
def settings_with_history(tmp_path):
    settings = sales_settings(tmp_path)
    build_sales_warehouse(settings)
    publish_marts(settings, "run-0001-good")
    execute(settings, "update marts_candidate.mart_sales_daily set returned_units = -3")
    with pytest.raises(MartsNotPublished):
        publish_marts(settings, "run-0002-bad")
    return settings


def test_the_quality_report_shows_results_over_time_and_the_latest_failures(
    settings_with_history,
):
    built = build_quality_report(settings_with_history)

    page = Path(built["report"]).read_text(encoding="utf-8")
    assert built["runs"] == 2 and built["latest_run"] == "run-0002-bad"
    assert "<script" not in page and "http" not in page.split("</style>", 1)[0]
    failures = page[page.index("Failures in the latest run") : page.index("Results over time")]
    assert "marts.mart_sales_daily.returned_units_at_least_0" in failures
    assert "Returned units are a positive count" in failures
    assert "-3" in failures
    history = page[page.index("Results over time") :]
    row = re.search(r"returned_units_at_least_0</code></td>(.*?)</tr>", history).group(1)
    assert re.findall(r"class='(\w+)'", row) == ["pass", "fail"]
    assert "refused" in page and "run-0001-good" in page


def test_data_docs_are_rendered_from_the_stored_results(settings_with_history):
    built = build_data_docs(settings_with_history)

    assert built["runs"] == 2
    site = settings_with_history.home / "reports" / "data_docs"
    pages = [p for p in (site / "validations").rglob("*.html")]
    assert len(pages) == built["validations"] == 2
    failed_page = next(p for p in pages if "run-0002-bad" in str(p))
    text = failed_page.read_text(encoding="utf-8")
    assert "returned_units" in text
    assert (site / "index.html").exists()
    again = build_data_docs(settings_with_history)
    assert again == built
