"""The auditors' lineage report, built from the recorded events."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ronghe.audit.record import RUN_FINISHED, RUN_STARTED, record_run
from ronghe.lineage.report import build_lineage_report
from ronghe.lineage.run_context import code_version, config_hash

# Over a generated estate landed and built with dbt (the session fixture).
pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _rendered_dom(index: Path) -> str:
    """The page as headless Chromium renders it."""
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed")
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", index.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "img":
            self.images.append(dict(attrs)["src"])


def test_the_report_shows_batches_tables_and_the_sources_of_each_mart_column(lineage_estate):
    settings = lineage_estate.settings
    record_run(settings, "run-audited", RUN_STARTED)
    record_run(settings, "run-audited", RUN_FINISHED, outcome="published")
    result = build_lineage_report(settings)
    page = _Text()
    page.feed(_rendered_dom(Path(result["report"])))
    text = " ".join(page.text)
    directory = settings.home / "reports" / "lineage"
    assert page.images == ["lineage.png"]
    assert (directory / "lineage.png").stat().st_size > 10_000
    for expected in (
        "extract.pos",
        "pos-000001",
        f"{settings.sources_dir}/pos/*/*/lines.csv",
        "marts_candidate.mart_sales_daily",
        "raw.pos_lines.qty",
        "dbt.model.fct_order_lines",
        "identity.resolve",
        "ops.transform_fingerprints",
        "Audit log",
        "run-audited",
        "run.finished",
        '"outcome":"published"',
    ):
        assert expected in text, expected
    content = json.loads((directory / "lineage.json").read_text(encoding="utf-8"))
    origins = content["mart_column_origins"]["marts_candidate.mart_sales_daily"]["net_sales"]
    assert f"{settings.sources_dir}/pos/*/*/lines.csv.qty" in origins
    assert result["columns_without_source"] == content["columns_without_source"]
    audit = content["audit_log"]
    assert audit["intact"] and audit["verdict"] in text
    assert [e["action"] for e in audit["latest"][:2]] == ["run.finished", "run.started"]
    # Every table of every schema, identity and ops included, is named by an event.
    assert result["tables_without_lineage"] == []
    # Every run names the code and the configuration it ran with.
    expected = (code_version(), config_hash(settings))
    assert {(r["code_versions"][0], r["config_hashes"][0]) for r in content["runs"]} == {expected}
    assert code_version() in text
    # Every mart column reaches a source field: counts and constants through the
    # columns that group, filter and join their rows (INDIRECT).
    assert result["columns_without_source"] == []
    assert "Every mart column reaches at least one source field." in text
