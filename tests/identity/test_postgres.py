"""The identity step on a real PostgreSQL server: same SQL, same keys as on DuckDB."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from ronghe.identity.overrides import add_override
from ronghe.identity.schema import ensure_schema
from ronghe.identity.step import resolve_in
from ronghe.identity.store import DuckDBWarehouse, PostgresWarehouse
from tests.identity.builders import CONFIG, Rec
from tests.identity.inputs import seed

pytestmark = pytest.mark.postgres

RECS = [
    Rec("POS_MEMBER", "C1", name="张伟", phone="13800138000", gender="M", birth_date="1980-05-01"),
    Rec("MALL", "B1", name="張 偉", phone="+86 13800138000", email="zw@qq.com", union_id="oU-1"),
    Rec("TMALL", "T1", name="张伟", phone="138****8000"),
    Rec("POS_MEMBER", "C2", name="李芳", phone="13800138000", gender="F"),
]
INPUTS = (
    "intermediate.int_member_records_unioned",
    "intermediate.int_member_contacts_observed",
    "intermediate.int_product_codes_observed",
    "staging.stg_erp__items",
)


def _copy_inputs(duckdb_path: Path, postgres: PostgresWarehouse) -> None:
    source = DuckDBWarehouse(str(duckdb_path))
    try:
        for relation in INPUTS:
            frame = source.query(f"SELECT * FROM {relation}")
            types = source.query(f"DESCRIBE {relation}")
            columns = ", ".join(
                f"{name} {_postgres_type(kind)}"
                for name, kind in zip(types["column_name"], types["column_type"], strict=True)
            )
            schema = relation.split(".")[0]
            postgres.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            postgres.execute(f"CREATE TABLE {relation} ({columns})")
            postgres.append(relation, frame)
    finally:
        source.close()


def test_the_step_runs_on_postgres_and_assigns_the_same_keys(
    postgres_server, tmp_path: Path
) -> None:
    duckdb_path = tmp_path / "w.duckdb"
    barcode = "6901234567892"
    item = ("HW-1", "华为 手机", "S", "M", barcode, "ACTIVE")
    code = ("POS_BARCODE", barcode, barcode, None, None, 10.0, 1, None, None)
    seed(duckdb_path, RECS, items=[item], codes=[code])
    postgres = PostgresWarehouse(postgres_server.create_database("identity_step"))
    try:
        _copy_inputs(duckdb_path, postgres)
        ensure_schema(postgres)
        now = datetime(2025, 3, 1, 2)
        pg_summary = resolve_in(postgres, CONFIG, now=now)
        pg_keys = postgres.query(
            "SELECT source_record_id, member_key FROM identity.member_xref WHERE valid_to IS NULL"
        )
        sku = postgres.query("SELECT sku_key, matched_by FROM identity.sku_xref")
        again = resolve_in(postgres, CONFIG, now=datetime(2025, 3, 2, 2))
        add_override(
            postgres, "SPLIT", ("POS_MEMBER", "C1"), ("MALL", "B1"), "two people", "s", now
        )
        split = resolve_in(postgres, CONFIG, now=datetime(2025, 3, 3, 2))
        history = postgres.query(
            "SELECT count(*) AS closed FROM identity.member_xref WHERE valid_to IS NOT NULL"
        )
    finally:
        postgres.close()
    duck = DuckDBWarehouse(str(duckdb_path))
    try:
        resolve_in(duck, CONFIG, now=now)
        duck_keys = duck.query(
            "SELECT source_record_id, member_key FROM identity.member_xref WHERE valid_to IS NULL"
        )
    finally:
        duck.close()
    keys = _as_dict(pg_keys)
    assert keys == _as_dict(duck_keys)
    assert keys["C1"] == keys["B1"] == keys["T1"] != keys["C2"]
    assert pg_summary["members"]["members"] == 2
    assert again["members"]["records_rekeyed"] == again["members"]["keys_minted"] == 0
    assert list(sku.itertuples(index=False, name=None)) == [("HW-1", "barcode")]
    assert split["members"]["splits"] == 1
    assert int(history.iloc[0, 0]) == split["members"]["records_rekeyed"] >= 1


def _postgres_type(duckdb_type: str) -> str:
    return {"VARCHAR": "TEXT", "DOUBLE": "DOUBLE PRECISION"}.get(duckdb_type, duckdb_type)


def _as_dict(frame: pd.DataFrame) -> dict[str, str]:
    return dict(zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True))
