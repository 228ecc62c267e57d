"""A small estate landed and built as the pipeline's tasks do it, with lineage recorded.

Each extractor runs inside `extract_lineage` (what the extract task wraps it
in); dbt builds the identity step's inputs, the identity step resolves
members (inside `identity_lineage`, as the resolve_identity task runs it), dbt
builds the sales mart; each build's artifacts go through `build_events`
(openlineage-dbt's processor) and `emit_build_lineage`, what the dbt build
task does after cosmos' build. Outside Airflow the events land in
RONGHE_HOME/lineage/events/ronghe/.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from extractors.ecommerce import extract_ecommerce
from extractors.erp import extract_erp
from extractors.pos import extract_pos
from extractors.wms import extract_wms
from ronghe.ecommerce_api import start_server
from ronghe.generate import generate_estate
from ronghe.identity.step import resolve
from ronghe.lineage.dbt_events import build_events, emit_build_lineage
from ronghe.lineage.extract_events import extract_lineage
from ronghe.lineage.identity_events import identity_lineage
from ronghe.orchestration.extract import extract_specs
from ronghe.settings import Settings
from ronghe.transform.dbt_invocation import (
    DBT_PROJECT_DIR,
    dbt_environment,
    release_duckdb_file,
)
from tests.dbt.pipeline import build, settings_for

SCALE = 0.02
SEED = 11
DAYS = 6
# The transform DAG's split: first everything the identity step does not feed
# (staging, its inputs, the dimensions), then what it does, up to the sales mart.
# Their data tests belong to tests/dbt.
BEFORE_IDENTITY = (
    "--select", "staging", "intermediate", "+mart_sales_daily",
    "--exclude", "source:identity+",
    "--resource-type", "model",
)  # fmt: skip
AFTER_IDENTITY = ("--select", "source:identity+,+mart_sales_daily", "--resource-type", "model")


@dataclass(frozen=True)
class LineageEstate:
    settings: Settings
    targets: tuple[Path, ...]
    """dbt's target directories of the builds (manifest, run results)."""


def _land_with_lineage(settings: Settings) -> None:
    extractors = {
        "erp": extract_erp,
        "pos": extract_pos,
        "wms": extract_wms,
        "ecommerce": extract_ecommerce,
    }
    assert settings.sources_dir is not None
    with start_server(settings.sources_dir, token="lineage-tests") as server:
        api = dataclasses.replace(settings, ecom_api_url=server.url, ecom_api_token=server.token)
        for spec in extract_specs():
            task_settings = api if spec.source == "ecommerce" else settings
            with extract_lineage(
                task_settings, spec.source, spec.raw_tables, spec.stream_tables
            ) as lineage:
                lineage["result"] = extractors[spec.source](task_settings)


def dbt_build_events(settings: Settings, target: Path) -> list[dict]:
    """The model events of a build, made as the dbt build task makes them."""
    saved = dict(os.environ)
    os.environ.update(dbt_environment(settings))
    try:
        return build_events(DBT_PROJECT_DIR, "duckdb", target)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def lineage_estate(tmp_path_factory: pytest.TempPathFactory) -> LineageEstate:
    root = tmp_path_factory.mktemp("lineage")
    sources = root / "sources"
    generate_estate(sources, SCALE, SEED, DAYS)
    settings = settings_for(sources, str(root / "warehouse.duckdb"), root / "home")
    _land_with_lineage(settings)
    targets = (root / "target_before_identity", root / "target_after_identity")
    for target, args in zip(targets, (BEFORE_IDENTITY, AFTER_IDENTITY), strict=True):
        build(settings, target, *args)
        release_duckdb_file()
        emit_build_lineage(settings, dbt_build_events(settings, target))
        if target == targets[0]:
            with identity_lineage(settings):
                resolve(settings)
    return LineageEstate(settings=settings, targets=targets)
