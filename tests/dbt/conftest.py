"""A small generated estate, landed with the real extractors and built with dbt."""

from __future__ import annotations

from pathlib import Path

import pytest

from ronghe.generate import generate_estate
from ronghe.settings import Settings
from tests.dbt.pipeline import build, land_estate, settings_for

SCALE = 0.02
SEED = 42
DAYS = 8
# Staging, the identity engine's inputs, every mart with the models it reads,
# and the stock and shipment facts, with their tests (the identity engine does
# not run here: its tables stay empty in these tests).
BUILT_MODELS = (
    "staging",
    "path:models/intermediate/identity",
    "+path:models/marts",
    "+fct_stock_movements",
    "+fct_shipments",
)


@pytest.fixture(scope="session")
def sales_estate(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dbt_estate") / "sources"
    generate_estate(root, SCALE, SEED, DAYS)
    return root


@pytest.fixture(scope="session")
def built_warehouse(sales_estate: Path, tmp_path_factory) -> Settings:
    """The estate landed into a DuckDB warehouse and the sales models built and tested.

    The build runs the project's dbt unit tests too: this is where CI runs
    them (the pipeline's builds leave them out).
    """
    work = tmp_path_factory.mktemp("dbt_duckdb")
    settings = settings_for(sales_estate, str(work / "warehouse.duckdb"), work / "home")
    land_estate(settings)
    build(settings, build_target(settings), "--select", *BUILT_MODELS)
    return settings


def build_target(settings: Settings) -> Path:
    """The target directory of the `built_warehouse` build (manifest, run results)."""
    return settings.home.parent / "target"
