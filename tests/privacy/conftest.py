"""A small generated estate landed, resolved and built, for the privacy tests.

The real path without Airflow: the extractors land it (the e-commerce API
served locally), dbt builds staging and the identity inputs, the identity
engine resolves members, dbt builds the unified models and the sales mart.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ronghe.generate import generate_estate
from ronghe.identity.step import resolve
from ronghe.settings import Settings
from ronghe.transform.dbt_invocation import run_dbt
from tests.dbt.pipeline import land_estate, settings_for

SCALE, SEED, DAYS = 0.02, 7, 6
PRIVACY_KEY = "privacy-tests-key-not-a-secret"
BEFORE_IDENTITY = ("staging", "intermediate")
AFTER_IDENTITY = ("+mart_sales_daily", "+dim_member", "+member_xref", "+fct_orders")


def dbt_run(settings: Settings, target: Path, select: tuple[str, ...], *extra: str) -> None:
    run_dbt(
        [
            "run",
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
            "--select",
            *select,
            *extra,
        ],
        settings,
    )


def build_layers(settings: Settings, target: Path, *extra: str) -> None:
    """dbt up to the identity inputs, the identity step, then unified and the sales mart."""
    dbt_run(settings, target, BEFORE_IDENTITY, *extra)
    resolve(settings)
    dbt_run(settings, target, AFTER_IDENTITY, *extra)


@pytest.fixture(scope="session")
def built_estate(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    work = tmp_path_factory.mktemp("privacy")
    sources = work / "sources"
    generate_estate(sources, SCALE, SEED, DAYS)
    settings = dataclasses.replace(
        settings_for(sources, str(work / "warehouse.duckdb"), work / "home"),
        privacy_key=PRIVACY_KEY,
    )
    land_estate(settings)
    build_layers(settings, work / "target")
    return settings
