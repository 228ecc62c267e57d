"""The same extractors land into a PostgreSQL warehouse, with the same result as into DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.erp import extract_erp
from extractors.pos import extract_pos
from extractors.wms import extract_wms
from tests.extractors.estates import erp_estate, pos_estate, wms_estate, write_drop
from tests.extractors.helpers import land, query, settings_for, snapshot

pytestmark = pytest.mark.postgres


def _estate(root: Path) -> Path:
    return erp_estate(wms_estate(pos_estate(root)))


def test_postgres_warehouse_matches_duckdb(postgres_server, tmp_path: Path) -> None:
    sources = _estate(tmp_path / "sources")
    on_duckdb = settings_for(sources, str(tmp_path / "warehouse.duckdb"))
    on_postgres = settings_for(sources, postgres_server.create_database("wh_extract"))
    for settings in (on_duckdb, on_postgres):
        for extract in (extract_erp, extract_pos, extract_wms):
            assert land(extract, settings)["committed"]
    # A re-sent drop arriving later: the ledger adjustment works on PostgreSQL too.
    write_drop(
        sources,
        "S0002",
        "20250301_2",
        ["B0001,S0002,2,收银员07,2025-03-01 11:00:00,,,现金,1199.00,销售,,"],
        ["B0001,1,690123456789,1,1299.00,100.00,"],
        [],
        vendor="B",
        summary="合计,,,,,,,,1199.00,,,",
    )
    for settings in (on_duckdb, on_postgres):
        assert land(extract_pos, settings)["superseded"] == 5
        assert not land(extract_pos, settings)["committed"]
    duck, pg = snapshot(on_duckdb), snapshot(on_postgres)
    assert duck.keys() == pg.keys()
    for table in duck:
        if table == "ops.load_batches":  # it names the engine; everything else is equal
            assert [r[:3] + r[4:] for r in pg[table]] == [r[:3] + r[4:] for r in duck[table]]
            assert {r[3] for r in pg[table]} == {"postgresql"}
        else:
            assert pg[table] == duck[table], table
    assert query(on_postgres, "SELECT count(*) FROM raw.pos_lines") == [(5,)]
