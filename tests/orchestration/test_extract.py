"""What the extract DAGs' tasks do with the real extractors: summaries, new data, connections."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ronghe.orchestration.connections import task_settings
from ronghe.orchestration.extract import extract_specs, run_extractor
from tests.extractors.estates import erp_estate, pos_estate


def _spec(source: str):
    (spec,) = [spec for spec in extract_specs() if spec.source == source]
    return spec


@pytest.fixture
def ronghe_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("RONGHE_ERP_URL", "AIRFLOW_CONN_RONGHE_ERP", "AIRFLOW_CONN_RONGHE_ECOMMERCE_API"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RONGHE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RONGHE_SOURCES_DIR", str(sources))
    monkeypatch.setenv("RONGHE_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    return sources


def test_a_run_that_lands_rows_says_so_per_raw_table_and_a_rerun_finds_nothing(
    ronghe_env: Path,
) -> None:
    pos_estate(ronghe_env)
    spec = _spec("pos")

    first = run_extractor(spec)

    assert first["new_data"] is True
    assert first["batch_id"]
    assert set(first["loaded_by_table"]) <= set(spec.raw_tables)
    with duckdb.connect(str(ronghe_env.parent / "warehouse.duckdb"), read_only=True) as db:
        for table, loaded in first["loaded_by_table"].items():
            batch_rows = db.execute(
                f"select count(*) from {table} where _batch_id = ?", [first["batch_id"]]
            ).fetchone()[0]
            assert batch_rows == loaded, table
    assert first["loaded_by_table"]["raw.pos_lines"] > 0
    assert first["counts"]["loaded"] == sum(first["loaded_by_table"].values())

    again = run_extractor(spec)

    # Nothing new: the short-circuit stops the run before anything is announced.
    assert again["new_data"] is False
    assert again["batch_id"] is None
    assert sum(again["loaded_by_table"].values()) == 0


def test_the_erp_comes_from_its_airflow_connection_when_one_is_set(
    ronghe_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ERP database lives outside the source drop: only the connection knows it.
    erp_estate(tmp_path / "erp-server")
    erp_db = tmp_path / "erp-server" / "erp" / "erp.db"
    monkeypatch.setenv("AIRFLOW_CONN_RONGHE_ERP", f"sqlite:///{erp_db}")

    assert task_settings().erp_url == f"sqlite:///{erp_db}"
    landed = run_extractor(_spec("erp"))
    assert landed["new_data"] is True
    assert landed["loaded_by_table"]["raw.erp_item"] > 0


def test_the_environment_is_used_when_no_connection_is_set(ronghe_env: Path) -> None:
    settings = task_settings()
    assert settings.erp_url == f"sqlite:///{ronghe_env / 'erp' / 'erp.db'}"
    assert settings.ecom_api_url is None


def test_the_e_commerce_api_connection_gives_the_base_url_and_the_token(
    ronghe_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_RONGHE_ECOMMERCE_API", "https://:s3cret@api.example.com/shop")
    settings = task_settings()
    assert settings.ecom_api_url == "https://api.example.com/shop"
    assert settings.ecom_api_token == "s3cret"
