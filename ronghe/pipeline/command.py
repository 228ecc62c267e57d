"""`ronghe run`: the whole pipeline through Airflow on any estate that follows the contract."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the whole pipeline through Airflow on a source drop",
        description=(
            "Extract all four source systems, build the warehouse with dbt, check it with "
            "Great Expectations and publish the marts, through Airflow's DAGs. The local "
            "e-commerce API server is started over SOURCES/ecommerce unless "
            "RONGHE_ECOM_API_URL points at a real endpoint."
        ),
    )
    parser.add_argument("--sources", required=True, type=Path, help="root of the source drop")
    parser.add_argument(
        "--warehouse",
        help="DuckDB file or postgresql:// URL (default: RONGHE_WAREHOUSE, else "
        "RONGHE_HOME/warehouse.duckdb)",
    )
    parser.add_argument(
        "--home", type=Path, help="working directory (default: RONGHE_HOME, else ./.ronghe)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="rebuild the warehouse even if nothing changed since the last published run "
        "(by default the transform is skipped when no new data, configuration, dbt project, "
        "steward override or erasure arrived since then)",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every incremental model from the raw layer (dbt --full-refresh): "
        "needed after a business-rule threshold in the configuration changed, since "
        "incremental builds keep the rows built under the old one (implies --force)",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from ronghe.pipeline.run import run_pipeline

    return run_pipeline(
        sources_dir=args.sources,
        warehouse=args.warehouse,
        home=args.home,
        force=args.force,
        full_refresh=args.full_refresh,
    )
