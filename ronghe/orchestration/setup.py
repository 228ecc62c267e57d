"""Prepare an Airflow deployment for Ronghe's DAGs (idempotent; run at every deploy).

    python -m ronghe.orchestration.setup

creates or updates the pools the DAGs use and compiles the dbt manifest the
transform DAG is drawn from. It needs the metadata database (run it after
`airflow db migrate`) and the same RONGHE_* environment as the scheduler.
The compose file's init service and `ronghe run` call it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ronghe.orchestration.dbt_manifest import compile_manifest
from ronghe.orchestration.pools import POOLS
from ronghe.settings import load_settings


def ensure_pools() -> list[str]:
    """Create or update every pool in `POOLS`; return their names."""
    from airflow.models import Pool
    from airflow.utils.session import create_session

    with create_session() as session:
        for pool in POOLS:
            Pool.create_or_update_pool(
                pool.name, pool.slots, pool.description, include_deferred=False, session=session
            )
    return [pool.name for pool in POOLS]


def prepare_deployment() -> Path:
    """Pools and manifest; returns the manifest's path."""
    ensure_pools()
    return compile_manifest(load_settings())


def main() -> int:
    manifest = prepare_deployment()
    for pool in POOLS:
        print(f"pool {pool.name}: {pool.slots} slot(s)")
    print(f"dbt manifest: {manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
