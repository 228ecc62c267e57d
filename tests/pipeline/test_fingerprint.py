"""The transform's input fingerprint on a real warehouse landed by the real POS extractor.

A run whose inputs are those of the last published run has nothing to
rebuild; a new delivery, a configuration change, a steward's override or
`force` makes it rebuild, and says which input changed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from ronghe.identity.schema import TABLES as IDENTITY_TABLES
from ronghe.orchestration.extract import extract_specs, run_extractor
from ronghe.orchestration.fingerprint import current_fingerprint, decide, record_fingerprint
from ronghe.settings import Settings, load_settings
from tests.extractors.estates import pos_estate, txn_a, write_drop

PUBLISHED_RUN = "manual__2025-03-02T00:00:00+00:00"


def _land_pos() -> dict:
    (spec,) = [spec for spec in extract_specs() if spec.source == "pos"]
    return run_extractor(spec)


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A warehouse with one POS batch landed, whose inputs a publish recorded."""
    sources = pos_estate(tmp_path / "sources")
    monkeypatch.setenv("RONGHE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RONGHE_SOURCES_DIR", str(sources))
    monkeypatch.setenv("RONGHE_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    assert _land_pos()["new_data"] is True
    settings = load_settings()
    record_fingerprint(settings, PUBLISHED_RUN, current_fingerprint(settings))
    return settings


def test_a_transform_with_the_published_inputs_is_skipped_naming_that_run(
    published: Settings,
) -> None:
    decision = decide(published)
    assert decision.rebuild is False
    assert decision.matches_run == PUBLISHED_RUN
    assert decision.reason == f"transform skipped: nothing changed since run {PUBLISHED_RUN}"


def test_an_extract_that_finds_nothing_new_keeps_the_skip(published: Settings) -> None:
    assert _land_pos()["new_data"] is False
    assert decide(published).rebuild is False


def test_one_new_delivery_makes_the_transform_run(published: Settings) -> None:
    assert published.sources_dir is not None
    write_drop(
        published.sources_dir, "S0001", "20250303", [txn_a("T0009", "S0001", "5.00")], [], []
    )
    assert _land_pos()["new_data"] is True

    decision = decide(published)
    assert decision.rebuild is True
    assert decision.reason == f"changed since run {PUBLISHED_RUN}: landed_batches"


def test_a_configuration_change_makes_the_transform_run(
    published: Settings, tmp_path: Path
) -> None:
    changed = tmp_path / "ronghe.yml"
    changed.write_text(
        published.config_path.read_text(encoding="utf-8") + "\n# reviewed again\n",
        encoding="utf-8",
    )
    decision = decide(dataclasses.replace(published, config_path=changed))
    assert decision.rebuild is True
    assert decision.reason.endswith(": config")


def test_a_steward_override_makes_the_transform_run(published: Settings) -> None:
    with duckdb.connect(published.warehouse) as warehouse:
        warehouse.execute("create schema if not exists identity")
        warehouse.execute(f"create table identity.overrides ({IDENTITY_TABLES['overrides']})")
        warehouse.execute(
            "insert into identity.overrides (override_id, action, left_source_system, "
            "left_source_record_id, right_source_system, right_source_record_id, reason, "
            "requested_by, requested_at, status) values ('o-1', 'SPLIT', 'POS_MEMBER', 'M0001', "
            "'JD', 'jd-7', 'two people', 'steward', now(), 'ACTIVE')"
        )
    decision = decide(published)
    assert decision.rebuild is True
    assert decision.reason.endswith(": steward_overrides")


def test_force_rebuilds_whatever_the_fingerprint(published: Settings) -> None:
    decision = decide(published, force=True)
    assert decision.rebuild is True
    assert decision.fingerprint == current_fingerprint(published)


def test_the_latest_publish_is_the_one_compared(published: Settings) -> None:
    assert published.sources_dir is not None
    write_drop(
        published.sources_dir, "S0001", "20250303", [txn_a("T0009", "S0001", "5.00")], [], []
    )
    _land_pos()
    record_fingerprint(published, "manual__later", current_fingerprint(published))

    assert decide(published).matches_run == "manual__later"
