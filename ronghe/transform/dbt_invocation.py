"""Invoke dbt in-process with Ronghe's settings.

dbt reads credentials through `env_var()` (see dbt_project/profiles.yml); this
module derives those variables from `RONGHE_WAREHOUSE`, passes the business
rules of config/ronghe.yml as vars, and turns a failed invocation into an
exception that names the failing nodes.

Every invocation, here or in the transform DAG's builds, starts from the
parse the last `run_dbt` left in `RONGHE_HOME/dbt/partial_parse.msgpack`,
whatever target path it writes its artefacts to: dbt re-parses only the
files that changed since (all of them when the dbt version, the vars or the
connection changed).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ronghe.config import section
from ronghe.settings import REPO_ROOT, Settings, load_settings

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_PROFILE = "ronghe"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


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
            RONGHE_DBT_TARGET=dbt_target(settings),
            RONGHE_PG_HOST=url.hostname or "127.0.0.1",
            RONGHE_PG_PORT=str(url.port or 5432),
            RONGHE_PG_USER=unquote(url.username or ""),
            RONGHE_PG_PASSWORD=unquote(url.password or ""),
            RONGHE_PG_DATABASE=url.path.lstrip("/"),
        )
    else:
        env.update(RONGHE_DBT_TARGET=dbt_target(settings), RONGHE_WAREHOUSE=settings.warehouse)
    kept_parse = parse_cache(settings)
    if kept_parse.is_file():
        env["DBT_PARTIAL_PARSE_FILE_PATH"] = str(kept_parse)
    return env


def dbt_target(settings: Settings) -> str:
    """The dbt profile target of the configured warehouse."""
    return "postgres" if settings.warehouse_is_postgres else "duckdb"


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
        # named as the transform DAG's builds name them: dbt reuses a parse only
        # when profile, target and vars are the same
        "--profile",
        DBT_PROFILE,
        "--target",
        dbt_target(settings),
        "--vars",
        json.dumps(dbt_vars(settings)),
    ]
    with _environment(dbt_environment(settings)):
        try:
            result = dbtRunner().invoke(command)
        finally:
            release_duckdb_file()
    keep_parse(_target_path(args) / PARTIAL_PARSE_FILE, parse_cache(settings))
    if result.exception is not None:
        raise DbtInvocationError(f"dbt {' '.join(args)} could not run: {result.exception}")
    if not result.success:
        raise DbtInvocationError(f"dbt {' '.join(args)} failed: {_failures(result.result)}")
    return result.result


def parse_cache(settings: Settings) -> Path:
    """Where the last invocation's parse waits for the next one."""
    return settings.home / "dbt" / PARTIAL_PARSE_FILE


def keep_parse(written: Path, cache: Path) -> None:
    """Keep the parse dbt just wrote for the next invocation (atomically: runs may overlap)."""
    if not written.is_file():
        return  # the invocation failed before parsing
    cache.parent.mkdir(parents=True, exist_ok=True)
    staged = cache.with_name(f"{cache.name}.{os.getpid()}")
    shutil.copyfile(written, staged)
    os.replace(staged, cache)


def _target_path(args: list[str]) -> Path:
    """The target directory an invocation writes its artefacts to (dbt: relative to the project)."""
    chosen = os.environ.get("DBT_TARGET_PATH") or "target"
    for flag, value in pairwise(args):
        if flag == "--target-path":
            chosen = value
    return DBT_PROJECT_DIR / chosen  # an absolute `chosen` stays as it is


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
