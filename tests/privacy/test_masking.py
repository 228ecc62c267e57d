"""The masking macros, run by dbt on the DuckDB and PostgreSQL targets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ronghe.settings import Settings, load_settings
from ronghe.transform.dbt_invocation import run_dbt

SAMPLE = """
select
    {{ mask_phone('phone') }} as phone,
    {{ mask_email('email') }} as email,
    {{ mask_name('name') }} as name
from (
    select '+8613800138000' as phone, 'Zhang.Wei@example.com' as email, '张伟' as name, 1 as n
    union all select '13912345678', 'no-at-sign', '欧阳娜娜', 2
    union all select null, null, null, 3
) as samples
order by n
"""
EXPECTED = [
    ("138****8000", "Z***@example.com", "张**"),
    ("139****5678", "***", "欧**"),
    (None, None, None),
]


def _masked(settings: Settings, target: Path) -> list[tuple]:
    result = run_dbt(
        ["show", "--inline", SAMPLE, "--target-path", str(target), "--log-path", str(target)],
        settings,
    )
    return [tuple(row) for row in result.results[0].agate_table.rows]


@pytest.mark.slow
def test_masking_on_duckdb(built_estate: Settings) -> None:
    # the estate's dbt target: dbt parses only what changed since its build
    assert _masked(built_estate, built_estate.home.parent / "target") == EXPECTED


@pytest.mark.slow
@pytest.mark.postgres
def test_masking_on_postgres(postgres_server, tmp_path: Path) -> None:
    settings = dataclasses.replace(
        load_settings(), warehouse=postgres_server.create_database("privacy_masking")
    )
    assert _masked(settings, tmp_path / "target") == EXPECTED
