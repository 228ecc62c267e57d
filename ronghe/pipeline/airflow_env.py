"""The environment a local Airflow needs to run Ronghe's DAGs.

`ronghe run` keeps Airflow's home (SQLite metadata database, logs) under
RONGHE_HOME, so a run never touches a user's own Airflow installation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ronghe.settings import REPO_ROOT

DAGS_FOLDER = REPO_ROOT / "dags"

# Ronghe's own runs are offline and quiet: no telemetry, no example DAGs.
OFFLINE_DEFAULTS = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "SCARF_ANALYTICS": "false",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
}


# The dbt build tasks are never retried (see ronghe.orchestration.transform), so
# cosmos need not copy every progress XCom of a build into a Variable as it goes.
COSMOS_SETTINGS = {
    "AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY": "False",
}


# Ronghe writes the lineage of its extract batches and dbt models itself (see
# ronghe.lineage), named under this namespace; the Airflow OpenLineage
# provider names the task runs they belong to under the same one. The
# provider's own events stay off even when OPENLINEAGE_URL is set for
# Ronghe's: they would repeat the dbt datasets under other names (see
# docs/lineage.md).
LINEAGE_SETTINGS = {
    "AIRFLOW__OPENLINEAGE__NAMESPACE": "ronghe",
    "AIRFLOW__OPENLINEAGE__DISABLED": "True",
}


def airflow_environment(home: Path) -> dict[str, str]:
    """Variables that point Airflow at Ronghe's DAGs and a private metadata database."""
    airflow_home = home / "airflow"
    return {
        **OFFLINE_DEFAULTS,
        **COSMOS_SETTINGS,
        **LINEAGE_SETTINGS,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
        # cosmos keeps each dbt build's partial parse here for the next build. Its
        # default, /tmp/cosmos, is shared by every warehouse on the machine: a parse
        # left by another warehouse's profile is useless and dbt parses from scratch.
        "AIRFLOW__COSMOS__CACHE_DIR": str(airflow_home / "cosmos"),
    }


def prepare_metadata_database(env: dict[str, str]) -> None:
    """Create or upgrade Airflow's metadata database (idempotent)."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"airflow db migrate failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}"
        )
