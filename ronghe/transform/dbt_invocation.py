"""Invoke dbt in-process with Ronghe's settings.

dbt reads credentials through `env_var()` (see dbt_project/profiles.yml); this
module derives those variables from `RONGHE_WAREHOUSE`, passes the business
rules of config/ronghe.yml as vars, and turns a failed invocation into an
exception that names the failing nodes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlparse

from ronghe.config import section
from ronghe.settings import REPO_ROOT, Settings, load_settings

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


class DbtInvocationError(RuntimeError):
    """dbt finished with errors or failed tests."""


def dbt_environment(settings: Settings) -> dict[str, str]:
    """Environment variables the dbt profile reads for the configured warehouse."""
    env = {
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "PGTZ": "UTC",
    }
    if settings.warehouse_is_postgres:
        url = urlparse(settings.warehouse)
        env.update(
            RONGHE_DBT_TARGET="postgres",
            RONGHE_PG_HOST=url.hostname or "127.0.0.1",
            RONGHE_PG_PORT=str(url.port or 5432),
            RONGHE_PG_USER=unquote(url.username or ""),
            RONGHE_PG_PASSWORD=unquote(url.password or ""),
            RONGHE_PG_DATABASE=url.path.lstrip("/"),
        )
    else:
        env.update(RONGHE_DBT_TARGET="duckdb", RONGHE_WAREHOUSE=settings.warehouse)
    return env


def dbt_vars(settings: Settings) -> dict[str, Any]:
    """The vars every invocation receives: the business rules, by name."""
    return dict(section("business_rules", settings.config_path))


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def run_dbt(args: list[str], settings: Settings | None = None) -> Any:
    """Run one dbt command (e.g. `["build", "--select", "staging"]`) and return its result.

    Raises DbtInvocationError naming every node that errored or failed.
    """
    from dbt.cli.main import dbtRunner

    settings = settings or load_settings()
    command = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--vars",
        json.dumps(dbt_vars(settings)),
    ]
    with _environment(dbt_environment(settings)):
        try:
            result = dbtRunner().invoke(command)
        finally:
            release_duckdb_file()
    if result.exception is not None:
        raise DbtInvocationError(f"dbt {' '.join(args)} could not run: {result.exception}")
    if not result.success:
        raise DbtInvocationError(f"dbt {' '.join(args)} failed: {_failures(result.result)}")
    return result.result


def release_duckdb_file() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the whole process.

    dbt-duckdb holds one shared DuckDB instance per process between
    invocations; while it lives, nothing else in the process (a quality check,
    the publish step, a read-only summary) can open the same file with another
    configuration. A no-op when dbt-duckdb never ran here.
    """
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    if manager._ENV is not None:
        manager._ENV.close()
    manager.close_all_connections()


def _failures(results: Any) -> str:
    failed = [
        f"{item.node.unique_id} ({item.status}: {(item.message or '').strip()[:300]})"
        for item in getattr(results, "results", []) or []
        if str(item.status) in {"error", "fail", "runtime error"}
    ]
    return "; ".join(failed) or "see the dbt log"
