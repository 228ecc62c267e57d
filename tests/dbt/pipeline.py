"""Land a generated estate with the real extractors and build the dbt project on it.

The identity engine's tables are created empty (the identity step is not part
of these tests): facts then carry no member or SKU keys, which the sales
rules under test do not depend on.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from extractors.ecommerce import extract_ecommerce
from extractors.erp import extract_erp
from extractors.pos import extract_pos
from extractors.wms import extract_wms
from ronghe.ecommerce_api import start_server
from ronghe.identity.schema import ensure_schema
from ronghe.identity.store import open_warehouse
from ronghe.settings import Settings, load_settings
from ronghe.transform.dbt_invocation import run_dbt
from ronghe.warehouse import connect


def settings_for(sources: Path, warehouse: str, home: Path) -> Settings:
    """Settings for one test warehouse over one estate."""
    return dataclasses.replace(
        load_settings(),
        home=home,
        sources_dir=sources,
        warehouse=warehouse,
        erp_url=f"sqlite:///{sources / 'erp' / 'erp.db'}",
    )


def land_estate(settings: Settings) -> None:
    """Run every extractor once over the settings' estate (the API served locally)."""
    assert settings.sources_dir is not None
    extract_erp(settings)
    extract_pos(settings)
    extract_wms(settings)
    with start_server(settings.sources_dir, token="dbt-tests") as server:
        extract_ecommerce(
            dataclasses.replace(settings, ecom_api_url=server.url, ecom_api_token=server.token)
        )
    identity = open_warehouse(settings)
    try:
        ensure_schema(identity)
    finally:
        identity.close()


def build(settings: Settings, target: Path, *args: str) -> Any:
    """`dbt build` with a private target directory, so tests never share dbt's state."""
    return run_dbt(
        ["build", "--target-path", str(target), "--log-path", str(target / "logs"), *args],
        settings,
    )


def model_contents(settings: Settings, schemas: tuple[str, ...]) -> dict[str, list[tuple]]:
    """Every table's rows in the given schemas (sorted, as text), keyed by relation."""
    # dbt-duckdb keeps the file open in this process after a run, and DuckDB
    # refuses a second, read-only configuration of the same file.
    con = connect(settings.warehouse_path)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in "
            f"({', '.join(repr(schema) for schema in schemas)}) order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{table}": sorted(
                tuple("" if value is None else str(value) for value in row)
                for row in con.execute(f'select * from "{schema}"."{table}"').fetchall()
            )
            for schema, table in tables
        }
    finally:
        con.close()
