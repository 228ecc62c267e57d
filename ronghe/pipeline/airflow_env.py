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
# provider names the task runs they belong to under the same one.
LINEAGE_SETTINGS = {
    "AIRFLOW__OPENLINEAGE__NAMESPACE": "ronghe",
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
