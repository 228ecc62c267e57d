"""The extraction benchmark runs end to end on a small hand-made estate."""

from __future__ import annotations

import json
from pathlib import Path

from ronghe.bench.extract import bench_extract
from tests.extractors.estates import erp_estate, pos_estate, wms_estate
from tests.support.ecommerce_estate import build_small_estate


def test_bench_extract_reports_each_source_against_its_lower_bound(tmp_path: Path) -> None:
    estate = erp_estate(wms_estate(pos_estate(tmp_path / "sources")))
    build_small_estate(estate, orders_per_platform=3)
    report = bench_extract(estate, tmp_path / "bench")
    assert set(report["sources"]) == {"pos", "wms", "erp", "ecommerce"}
    pos = report["sources"]["pos"]
    # The GBK drop was read by DuckDB from a transcoded copy: all three vendor files count.
    assert pos["rows_read"] == 12 and pos["lower_bound_rows"] >= 12
    # The API's bound walked the same pages: orders, their items and coupons, customers...
    ecommerce = report["sources"]["ecommerce"]
    assert ecommerce["lower_bound_rows"] == ecommerce["rows_read"] > 0
    for figures in report["sources"].values():
        assert figures["seconds"] > 0 and figures["lower_bound_seconds"] > 0
        assert figures["ratio"] == round(figures["seconds"] / figures["lower_bound_seconds"], 2)
        assert figures["peak_rss_mib"] > 0
    written = json.loads((tmp_path / "bench" / "bench_extract.json").read_text())
    assert written["sources"].keys() == report["sources"].keys()
