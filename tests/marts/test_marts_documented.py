"""Every mart is documented for BI and carries no personal data (dbt manifest of the build)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ronghe.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def manifest(marts_warehouse: Settings) -> dict:
    target = Path(marts_warehouse.home).parent / "target"
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))


def _models(manifest: dict, folder: str) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["path"].startswith(f"{folder}/")
    }


def test_marts_state_their_grain_and_every_column(manifest) -> None:
    marts = _models(manifest, "marts")
    assert len(marts) >= 8
    for name, node in marts.items():
        assert "**Grain**" in node["description"], name
        assert node["config"]["contract"]["enforced"], name
        undocumented = [
            column for column, spec in node["columns"].items() if not spec["description"]
        ]
        assert not undocumented, f"{name}: {undocumented}"


def test_marts_carry_no_personal_columns(manifest) -> None:
    personal = {
        column
        for node in _models(manifest, "unified").values()
        for column, spec in node["columns"].items()
        if spec.get("meta", {}).get("pii")
    }
    assert {"full_name", "phone_e164", "email"} <= personal
    for name, node in _models(manifest, "marts").items():
        assert not personal & set(node["columns"]), name
        assert not any(spec.get("meta", {}).get("pii") for spec in node["columns"].values()), name
    member_columns = _models(manifest, "marts")["mart_member_value"]["columns"]
    assert member_columns["phone_masked"]["meta"]["pii_category"] == "phone_masked"


def test_every_mart_feeds_a_declared_exposure(manifest) -> None:
    exposed = {
        manifest["nodes"][node_id]["name"]
        for exposure in manifest["exposures"].values()
        for node_id in exposure["depends_on"]["nodes"]
        if node_id.startswith("model.")
    }
    assert set(_models(manifest, "marts")) <= exposed
