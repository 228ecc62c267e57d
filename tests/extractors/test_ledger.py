"""The ledger check counts the tables itself: it catches rows that went missing or appeared."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.ledger import check_ledger, ledger_report
from extractors.pos import extract_pos
from extractors.sinks import open_sink
from tests.extractors.estates import pos_estate
from tests.extractors.helpers import land, settings_for


@pytest.fixture
def settings(tmp_path: Path):
    settings = settings_for(pos_estate(tmp_path / "sources"), str(tmp_path / "w.duckdb"))
    land(extract_pos, settings)
    return settings


def test_report_shape(settings) -> None:
    assert ledger_report(settings)["pos"]["lines"] == {
        "read": 6,
        "loaded": 4,
        "quarantined": 1,
        "duplicate": 1,
        "superseded": 0,
        "balanced": True,
    }


@pytest.mark.parametrize(
    "tamper, stream",
    [
        ("DELETE FROM raw.pos_lines WHERE txn_id = 'B0001'", "lines"),
        ("DELETE FROM ops.quarantine", "lines"),
        ("DELETE FROM ops.skipped_rows", "lines"),
        ("INSERT INTO raw.pos_members SELECT * FROM raw.pos_members LIMIT 1", "members"),
        (
            "UPDATE ops.load_ledger SET read = read + 1 WHERE stream = 'transactions' "
            "AND origin LIKE '%S0001%'",
            "transactions",
        ),
    ],
)
def test_tampering_unbalances_the_stream(settings, tamper: str, stream: str) -> None:
    with open_sink(settings.warehouse) as sink:
        sink.execute(tamper)
        report, problems = check_ledger(sink)
    assert problems
    assert report["pos"][stream]["balanced"] is False
    others = {name for name in report["pos"] if name != stream}
    assert all(report["pos"][name]["balanced"] for name in others)
