"""A small generated estate with every reviewable defect, built up to the marts.

Ten days at seed 7 hold a sales spike (it needs seven trading days of
baseline), a night-order burst, a price-parity break and channel stuffing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ronghe.generate import generate_estate
from ronghe.settings import Settings
from tests.dbt.pipeline import settings_for
from tests.marts.pipeline import build_warehouse

SCALE = 0.02
SEED = 7
DAYS = 10


@pytest.fixture(scope="session")
def marts_estate(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("marts_estate") / "sources"
    generate_estate(root, SCALE, SEED, DAYS)
    return root


@pytest.fixture(scope="session")
def marts_warehouse(marts_estate: Path, tmp_path_factory) -> Settings:
    """The estate in a DuckDB warehouse with every layer and mart built and tested."""
    work = tmp_path_factory.mktemp("marts_duckdb")
    settings = settings_for(marts_estate, str(work / "warehouse.duckdb"), work / "home")
    build_warehouse(settings, work / "target")
    return settings
