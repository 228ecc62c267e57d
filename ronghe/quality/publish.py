"""Write-audit-publish for the marts BI tools read.

dbt writes the marts into `marts_candidate`. `publish_marts(settings, run_id)`
audits that candidate (the suites of `quality.publish.gate_layers`: unified
and marts) and, only if
no blocking rule failed, replaces every table of `marts` with its candidate in
one transaction, on DuckDB and PostgreSQL alike. Readers see the old marts or
the new ones, never a mix. A refused build leaves `marts` exactly as it was
and raises `MartsNotPublished` with the failed rules and sample failing rows.

Every decision (published, refused by the audit, or failed while copying)
is appended to `ops.publish_log` with the run id, the tables and their row
counts, and a data version: a hash of the published content, so two
identical builds carry the same version.

Serving copy (DuckDB): DuckDB lets one process hold a file while it writes,
so a BI tool holding the warehouse open would stop the pipeline. Each publish
therefore also writes `marts.duckdb` next to the warehouse, a separate file
with the `marts` schema only: written under a temporary name, then renamed
over the previous copy (an atomic rename on POSIX file systems). BI tools open
that file read-only; a reader keeps the version it opened until it reconnects,
and never blocks a run. DuckDB names an attached file's catalog after its
stem, so in that file `marts.mart_sales_daily` (or just `mart_sales_daily`)
is the same table as in the warehouse; `_publish` says which run and data
version it holds. PostgreSQL needs no copy: readers see committed marts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import sqlalchemy as sa

from ronghe.quality import store
from ronghe.quality.connection import existing_tables, open_engine
from ronghe.quality.runner import QualityGateFailed, quality_config, run_quality_gate, select_suites
from ronghe.serving.bi_reader import grant_marts_to_bi_reader
from ronghe.serving.comments import copy_comments
from ronghe.settings import Settings

CANDIDATE_SCHEMA = "marts_candidate"
PUBLISHED_SCHEMA = "marts"
SERVING_FILE_NAME = "marts.duckdb"
# Leftovers of an interrupted dbt run, never published.
_DBT_LEFTOVER = re.compile(r"__dbt_(tmp|backup)$")


class MartsNotPublished(RuntimeError):
    """The candidate marts were not published; the last good marts stay in place."""


def serving_copy_path(settings: Settings) -> Path:
    """Where BI tools find the published marts of a DuckDB warehouse."""
    path = settings.warehouse_path.with_name(SERVING_FILE_NAME)
    if path == settings.warehouse_path:
        raise ValueError(f"the warehouse itself is named {SERVING_FILE_NAME}; rename it")
    return path


def publish_marts(settings: Settings, run_id: str) -> dict[str, Any]:
    """Audit the candidate marts and publish them if every blocking rule passes.

    Returns {run_id, status, publish_id, data_version, tables, serving_copy, gate}.
    Raises MartsNotPublished (published marts untouched) when the audit fails.
    """
    config = quality_config(settings)
    publish_config = config["quality"]["publish"]
    with open_engine(settings) as engine, engine.connect() as connection:
        tables = _candidate_tables(connection)
        fingerprint_before = _fingerprint(connection, CANDIDATE_SCHEMA, tables)
    problem = _unpublishable(tables, config, publish_config)
    if problem:
        _refuse(settings, run_id, problem, failed_rules=[])
    try:
        gate = run_quality_gate(list(publish_config["gate_layers"]), settings, run_id)
    except QualityGateFailed as failure:
        _refuse(settings, run_id, str(failure), failed_rules=failure.summary["blocking_failures"])
    data_version = fingerprint_before["version"]
    serving = _use_serving_copy(settings, publish_config)
    staged = _stage_serving_copy(settings, tables, run_id, data_version) if serving else None
    publish_id = str(uuid.uuid4())
    try:
        with open_engine(settings) as engine, engine.begin() as connection:
            _replace_marts(connection, tables)
            grant_marts_to_bi_reader(connection)
            published = _fingerprint(connection, PUBLISHED_SCHEMA, tables)
            if published["version"] != data_version:
                raise MartsNotPublished(
                    "marts_candidate changed between the audit and the publish (another build "
                    "ran meanwhile); nothing was published. Re-run the build and publish."
                )
            store.ensure_tables(connection)
            store.write_publish(
                connection,
                {
                    "publish_id": publish_id,
                    "run_id": run_id,
                    "decided_at": store.utc_now(),
                    "status": "published",
                    "data_version": data_version,
                    "tables": published["rows"],
                    "failed_rules": [],
                    "serving_copy": str(serving_copy_path(settings)) if serving else None,
                    "message": f"{len(tables)} marts published after {gate['rules']} rules passed",
                },
            )
    except MartsNotPublished:
        _discard(staged)
        raise
    except Exception as error:
        _discard(staged)
        _refuse(
            settings,
            run_id,
            f"the publish transaction failed and was rolled back: {error}",
            failed_rules=[],
            status="failed",
        )
    if staged is not None:
        os.replace(staged, serving_copy_path(settings))
    return {
        "run_id": run_id,
        "status": "published",
        "publish_id": publish_id,
        "data_version": data_version,
        "tables": published["rows"],
        "serving_copy": str(serving_copy_path(settings)) if serving else None,
        "gate": gate,
    }


def _candidate_tables(connection: sa.Connection) -> list[str]:
    names = {name.split(".", 1)[1] for name in existing_tables(connection, CANDIDATE_SCHEMA)}
    return sorted(name for name in names if not _DBT_LEFTOVER.search(name))


def _unpublishable(
    tables: list[str], config: Mapping[str, Any], publish_config: Mapping[str, Any]
) -> str | None:
    if not tables:
        return f"{CANDIDATE_SCHEMA} holds no tables; run dbt's marts build before publishing."
    if publish_config["require_suite_per_mart"]:
        checked = {
            suite.table
            for suite in select_suites("marts", config)
            if suite.schema == CANDIDATE_SCHEMA
        }
        unchecked = [table for table in tables if table not in checked]
        if unchecked:
            return (
                f"{CANDIDATE_SCHEMA} tables without a quality suite: {', '.join(unchecked)}. "
                "Add a suite for each in expectations/marts.py; no mart is published unchecked."
            )
    return None


def _discard(staged: Path | None) -> None:
    if staged is not None:
        staged.unlink(missing_ok=True)


def _refuse(
    settings: Settings,
    run_id: str,
    reason: str,
    failed_rules: list[str],
    status: str = "refused",
) -> NoReturn:
    """Record the decision not to publish and raise; `marts` is as it was."""
    with open_engine(settings) as engine, engine.begin() as connection:
        store.ensure_tables(connection)
        store.write_publish(
            connection,
            {
                "publish_id": str(uuid.uuid4()),
                "run_id": run_id,
                "decided_at": store.utc_now(),
                "status": status,
                "data_version": None,
                "tables": None,
                "failed_rules": failed_rules,
                "serving_copy": None,
                "message": reason,
            },
        )
    raise MartsNotPublished(
        f"Marts not published for run {run_id}; the last good marts stay in place.\n{reason}"
    )


def _replace_marts(connection: sa.Connection, tables: list[str]) -> None:
    """Make `marts` an exact copy of the candidate, inside the caller's transaction.

    A table whose columns did not change is emptied and refilled, so grants
    and views that BI users made on it survive; otherwise it is recreated.
    """
    connection.execute(sa.text(f"create schema if not exists {PUBLISHED_SCHEMA}"))
    current = {name.split(".", 1)[1] for name in existing_tables(connection, PUBLISHED_SCHEMA)}
    for table in tables:
        published, candidate = f"{PUBLISHED_SCHEMA}.{table}", f"{CANDIDATE_SCHEMA}.{table}"
        if table in current and _columns(connection, PUBLISHED_SCHEMA, table) == _columns(
            connection, CANDIDATE_SCHEMA, table
        ):
            connection.execute(sa.text(f"delete from {published}"))
            connection.execute(sa.text(f"insert into {published} select * from {candidate}"))
        else:
            connection.execute(sa.text(f"drop table if exists {published}"))
            connection.execute(sa.text(f"create table {published} as select * from {candidate}"))
        copy_comments(connection, CANDIDATE_SCHEMA, table, published)
    for table in sorted(current - set(tables)):
        connection.execute(sa.text(f"drop table if exists {PUBLISHED_SCHEMA}.{table}"))


def _columns(connection: sa.Connection, schema: str, table: str) -> list[tuple[str, str]]:
    return [
        (name, data_type)
        for name, data_type in connection.execute(
            sa.text(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = :schema and table_name = :table order by ordinal_position"
            ),
            {"schema": schema, "table": table},
        )
    ]


def _fingerprint(connection: sa.Connection, schema: str, tables: list[str]) -> dict[str, Any]:
    """Row counts and an order-independent content hash per table, and their combined version."""
    if connection.dialect.name == "duckdb":
        content = "cast(sum(cast(hash(t) as hugeint)) as varchar)"
    else:
        content = "md5(coalesce(string_agg(md5(t::text), ',' order by md5(t::text)), ''))"
    rows: dict[str, int] = {}
    hashes: dict[str, Any] = {}
    for table in tables:
        count, digest = connection.execute(
            sa.text(f"select count(*), {content} from {schema}.{table} as t")
        ).one()
        rows[table] = int(count)
        hashes[table] = [_columns(connection, schema, table), digest]
    version = hashlib.sha256(json.dumps(hashes, sort_keys=True, default=str).encode()).hexdigest()
    return {"rows": rows, "version": version[:16]}


def _use_serving_copy(settings: Settings, publish_config: Mapping[str, Any]) -> bool:
    return bool(publish_config["serving_copy"]) and not settings.warehouse_is_postgres


def _stage_serving_copy(
    settings: Settings, tables: list[str], run_id: str, data_version: str
) -> Path:
    """Write the audited candidate into a new DuckDB file beside the serving copy."""
    target = serving_copy_path(settings)
    staged = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    with open_engine(settings) as engine, engine.connect() as connection:
        connection.exec_driver_sql(f"attach '{staged}' as serving")
        try:
            for table in tables:
                connection.exec_driver_sql(
                    f"create table serving.main.{table} as select * from {CANDIDATE_SCHEMA}.{table}"
                )
                copy_comments(connection, CANDIDATE_SCHEMA, table, f"serving.main.{table}")
            connection.execute(
                sa.text(
                    "create table serving.main._publish as select "
                    "cast(:run_id as varchar) as run_id, "
                    "cast(:version as varchar) as data_version, "
                    "cast(:at as timestamp) as published_at"
                ),
                {"run_id": run_id, "version": data_version, "at": store.utc_now()},
            )
            connection.commit()
        finally:
            connection.exec_driver_sql("detach serving")
    return staged
