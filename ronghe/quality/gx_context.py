"""A Great Expectations context bound to the warehouse, for one quality run.

The context is ephemeral: suites live as code in `expectations/`, and every
result is stored in the warehouse (`ops.dq_*`, see `store.py`), so nothing a
run needs lives in GX's own files and parallel runs cannot trample each
other's configuration. Data Docs are rendered later from the stored results
(`data_docs.py`).

The GX data source is named `warehouse` and each asset is named for the table
it validates (`raw.pos_lines`, `marts_candidate.mart_sales_daily`), the name
the dbt source, the Airflow asset and the lineage events use for that table.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import great_expectations as gx
import sqlalchemy as sa
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from ronghe.quality.connection import check_not_locked, warehouse_url
from ronghe.quality.gx_duckdb import make_duckdb_engine_work
from ronghe.settings import Settings

DATASOURCE_NAME = "warehouse"
# The one batch definition of every asset: suites validate whole tables.
WHOLE_TABLE = "whole table"


@dataclass
class GxWarehouse:
    """A GX context with the warehouse data source, and the SQLAlchemy engine under it.

    `connection` is the one connection GX runs every query on (DuckDB), where
    the failing rows of SQL rules wait in temporary tables; None where GX opens
    a connection per query (PostgreSQL).
    """

    context: Any
    datasource: Any
    engine: sa.Engine
    connection: sa.Connection | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def ephemeral_context(data_docs_dir: Path | None = None) -> Any:
    """A GX context kept in memory, quiet, with an optional local Data Docs site."""
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=(
            {
                "ronghe": {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(data_docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                }
            }
            if data_docs_dir is not None
            else {}
        ),
    )
    # GX logs every metric query at INFO; the run's own log says what matters.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return gx.get_context(mode="ephemeral", project_config=config)


@contextmanager
def open_warehouse(
    settings: Settings, tables: Mapping[str, tuple[str, str]] | None = None
) -> Iterator[GxWarehouse]:
    """A GX context with the warehouse data source; closes every connection on exit.

    `tables` maps each asset to register (`schema.table`, the name the suites
    use) to its schema and table; each asset gets one batch definition,
    `WHOLE_TABLE`. They are registered with the data source at once: GX
    serialises its whole configuration for every asset or batch definition
    added later (0.4 s for the 43 tables of the suites, at SF1).
    See `connection.check_not_locked` for what DuckDB asks of the caller.
    """
    check_not_locked(settings)
    context = ephemeral_context()
    assets = [
        {
            "name": name,
            "type": "table",
            "schema_name": schema,
            "table_name": table,
            "batch_definitions": [{"name": WHOLE_TABLE}],
        }
        for name, (schema, table) in (tables or {}).items()
    ]
    with warnings.catch_warnings():
        # The generic SQL data source serves DuckDB and PostgreSQL the same way.
        warnings.filterwarnings("ignore", message="You are using a generic SQLDatasource")
        # GX would rather have one data source per schema; one per warehouse keeps
        # a single connection (and the DuckDB workaround) for all layers.
        warnings.filterwarnings("ignore", message="`schema_name` is deprecated")
        datasource = context.data_sources.add_sql(
            name=DATASOURCE_NAME, connection_string=warehouse_url(settings), assets=assets
        )
    execution_engine = datasource.get_execution_engine()
    kept_connection = make_duckdb_engine_work(execution_engine)
    try:
        yield GxWarehouse(
            context=context,
            datasource=datasource,
            engine=execution_engine.engine,
            connection=kept_connection,
        )
    finally:
        if kept_connection is not None:
            kept_connection.close()
        # GX made a second engine to test the connection; both pools must let go
        # of the DuckDB file, or this process cannot open it differently later.
        execution_engine.engine.dispose()
        datasource.get_engine().dispose()
