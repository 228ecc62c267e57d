"""The extractors on an estate from our generator, checked against its `_truth/defects.csv`.

The estate grows between runs (3 days, then 5): the second run lands only what
is new, including re-sent drops and re-delivered WMS batches of earlier days.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from extractors.erp import extract_erp
from extractors.pos import extract_pos
from extractors.wms import extract_wms
from ronghe.generate import generate_estate
from tests.extractors.helpers import land, query, settings_for, snapshot

EXTRACTORS = (extract_erp, extract_pos, extract_wms)


def _defects(estate: Path, kind: str) -> list[dict[str, str]]:
    with (estate / "_truth" / "defects.csv").open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["kind"] == kind]


def _line(description: str) -> int:
    return int(re.search(r"line (\d+)", description)[1])


def test_growing_generated_estate(tmp_path: Path) -> None:
    estate = tmp_path / "sources"
    settings = settings_for(estate, str(tmp_path / "warehouse.duckdb"))
    for days in (3, 5):
        generate_estate(estate, 0.01, 7, days)
        for extract in EXTRACTORS:
            land(extract, settings)

    # Seed 7 over 5 days injects every quirk checked below (the test is not vacuous).
    for kind in (
        "duplicate_line",
        "malformed_row",
        "resent_drop_corrected",
        "incomplete_drop",
        "wms_late_movement",
        "wms_redelivered_batch",
    ):
        assert _defects(estate, kind), kind
    duplicates = set(
        query(
            settings,
            "SELECT origin, origin_line FROM ops.skipped_rows "
            "WHERE source = 'pos' AND disposition = 'duplicate'",
        )
    )
    for defect in _defects(estate, "duplicate_line"):
        assert (defect["location"], _line(defect["description"])) in duplicates, defect
    quarantined = set(query(settings, "SELECT origin, origin_line FROM ops.quarantine"))
    for defect in _defects(estate, "malformed_row"):
        line = int(defect["record_key"].removeprefix("line:"))
        assert (defect["location"], line) in quarantined, defect

    highest = dict(
        query(
            settings,
            "SELECT store_code || '/' || business_date, max(delivery) "
            "FROM raw.pos_drops GROUP BY 1",
        )
    )
    for kind in ("resent_drop_identical", "resent_drop_corrected"):
        for defect in _defects(estate, kind):
            assert highest[defect["record_key"]] >= 2, defect
    registered = {path for (path,) in query(settings, "SELECT path FROM ops.file_registry")}
    for defect in _defects(estate, "incomplete_drop"):
        incomplete = estate / defect["location"]
        if not (incomplete / "_SUCCESS").exists():
            assert not any(p.startswith(defect["location"] + "/") for p in registered)

    landed = {m for (m,) in query(settings, "SELECT movement_id FROM raw.wms_movements")}
    for defect in _defects(estate, "wms_late_movement"):
        assert defect["record_key"] in landed, defect
    assert query(
        settings, "SELECT count(*) - count(DISTINCT movement_id) FROM raw.wms_movements"
    ) == [(0,)]
    # The vendor B summaries all agree with their files.
    assert query(settings, "SELECT DISTINCT status FROM ops.control_totals") == [("match",)]

    before = snapshot(settings)
    for extract in EXTRACTORS:
        assert not land(extract, settings)["committed"]
    assert snapshot(settings) == before
