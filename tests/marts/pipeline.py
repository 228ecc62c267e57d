"""Build the whole warehouse the marts read: land, staging, identity, unified and marts.

The marts need the identity engine's keys (members, SKUs), so unlike
tests/dbt this runs the identity step between the staging and unified builds,
as the transform DAG does.
"""

from __future__ import annotations

from pathlib import Path

from ronghe.identity import resolve
from ronghe.settings import Settings
from tests.dbt.pipeline import build, land_estate


def build_warehouse(settings: Settings, target: Path) -> None:
    """Land the settings' estate and build every layer up to the candidate marts."""
    land_estate(settings)
    # tests that also read unified models run in the second build
    build(
        settings, target, "--select", "staging", "intermediate", "--indirect-selection", "cautious"
    )
    resolve(settings)
    build(settings, target, "--select", "unified", "marts")
