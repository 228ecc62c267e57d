"""The evidence store: every validation result, kept in the warehouse, never overwritten.

Four append-only tables in schema `ops` (DuckDB and PostgreSQL alike):

- `ops.dq_validations`: one row per suite run (run id, suite, suite version,
  data version, verdict) with GX's full validation result as JSON, from which
  Data Docs are rendered.
- `ops.dq_results`: one row per expectation per run: rule id, kind, severity,
  success, observed value, unexpected count, data version, a sample of the
  failing rows as JSON and the query that finds all of them.
- `ops.dq_failing_rows`: the failing rows themselves (up to
  `quality.evidence_row_limit` per check), each with its source location, so
  an auditor (and `defect_coverage`) can trace a verdict to source rows.
- `ops.publish_log`: every publish decision of the marts (see `publish.py`).

Rows are only ever inserted; a re-run of the same run id adds new rows with a
new `validation_id`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ronghe.audit.record import record_publish

_JSON = {"duckdb": "JSON", "postgresql": "JSONB"}

_TABLES = {
    "dq_validations": """
        validation_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        validated_at TIMESTAMP NOT NULL,
        layer VARCHAR NOT NULL,
        suite VARCHAR NOT NULL,
        suite_version VARCHAR NOT NULL,
        dataset VARCHAR NOT NULL,
        success BOOLEAN NOT NULL,
        blocking_failures INTEGER NOT NULL,
        warnings INTEGER NOT NULL,
        evaluated INTEGER NOT NULL,
        data_version {json},
        gx_result {json}
    """,
    "dq_results": """
        validation_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        validated_at TIMESTAMP NOT NULL,
        layer VARCHAR NOT NULL,
        suite VARCHAR NOT NULL,
        suite_version VARCHAR NOT NULL,
        dataset VARCHAR NOT NULL,
        rule_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        expectation_type VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        success BOOLEAN NOT NULL,
        meaning VARCHAR,
        observed_value {json},
        element_count BIGINT,
        unexpected_count BIGINT,
        unexpected_percent DOUBLE PRECISION,
        data_version {json},
        sample_failing_rows {json},
        failing_rows_kept BIGINT,
        failing_rows_query VARCHAR,
        error VARCHAR
    """,
    "dq_failing_rows": """
        validation_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        rule_id VARCHAR NOT NULL,
        location VARCHAR,
        origin_line BIGINT,
        row_data {json}
    """,
    "publish_log": """
        publish_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        decided_at TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL,
        data_version VARCHAR,
        tables {json},
        failed_rules {json},
        serving_copy VARCHAR,
        message VARCHAR
    """,
}


def utc_now() -> datetime:
    """Naive UTC, like every timestamp in the warehouse."""
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_tables(connection: sa.Connection) -> None:
    """Create schema `ops` and the evidence tables if they do not exist yet."""
    json_type = _JSON[connection.dialect.name]
    connection.execute(sa.text("create schema if not exists ops"))
    for table, columns in _TABLES.items():
        connection.execute(
            sa.text(f"create table if not exists ops.{table} ({columns.format(json=json_type)})")
        )


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, ensure_ascii=False)


def _insert(connection: sa.Connection, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    rows = list(rows)
    if not rows:
        return
    json_type = _JSON[connection.dialect.name]
    columns = list(rows[0])
    json_columns = _json_columns(table)
    values = ", ".join(
        f"cast(:{name} as {json_type})" if name in json_columns else f":{name}" for name in columns
    )
    statement = sa.text(f"insert into ops.{table} ({', '.join(columns)}) values ({values})")
    connection.execute(
        statement,
        [
            {key: to_json(value) if key in json_columns else value for key, value in row.items()}
            for row in rows
        ],
    )


def _json_columns(table: str) -> set[str]:
    return {
        line.split()[0]
        for line in _TABLES[table].strip().splitlines()
        if line.split()[1].rstrip(",") == "{json}"
    }


def write_validation(
    connection: sa.Connection, validation: Mapping[str, Any], results: list[Mapping[str, Any]]
) -> None:
    """Store one suite run and its per-expectation results."""
    _insert(connection, "dq_validations", [validation])
    _insert(connection, "dq_results", results)


def write_publish(connection: sa.Connection, entry: Mapping[str, Any]) -> None:
    _insert(connection, "publish_log", [entry])
    record_publish(connection, entry)  # the audit log's entry, in the same transaction


@dataclass
class KeptRows:
    """The failing rows a check kept as evidence: how many, and the first few."""

    count: int
    sample: list[dict[str, Any]]


# Where one check's failing rows wait between its query and the evidence table.
_STAGED = "ronghe_staged_evidence"


def keep_failing_rows(
    connection: sa.Connection,
    *,
    validation_id: str,
    run_id: str,
    rule_id: str,
    failing_rows_query: str,
    limit: int,
    sample_size: int,
) -> KeptRows:
    """Copy up to `limit` rows of `failing_rows_query` into ops.dq_failing_rows, in SQL.

    The rows never pass through Python (but the sample), so even a check
    failing on millions of rows costs one bounded INSERT ... SELECT. They are
    counted and sampled in a temporary table on the way: the evidence table
    holds every earlier run's rows, and reading them back from there would
    make each run cost more than the one before.
    """
    row_json = "to_json(failing)" if connection.dialect.name == "duckdb" else "to_jsonb(failing)"
    connection.execute(
        sa.text(
            f"create temporary table {_STAGED} as select "
            f"{row_json} ->> '_origin' as location, "
            f"cast({row_json} ->> '_origin_line' as bigint) as origin_line, "
            f"{row_json} as row_data "
            f"from (select * from ({failing_rows_query}) as found limit {int(limit)}) as failing"
        )
    )
    # On an error the suite's transaction rolls back, temporary table included.
    connection.execute(
        sa.text(
            "insert into ops.dq_failing_rows "
            "(validation_id, run_id, rule_id, location, origin_line, row_data) "
            "select :validation_id, :run_id, :rule_id, location, origin_line, row_data "
            f"from {_STAGED}"
        ),
        {"validation_id": validation_id, "run_id": run_id, "rule_id": rule_id},
    )
    count = connection.execute(sa.text(f"select count(*) from {_STAGED}")).scalar_one()
    sample = connection.execute(
        sa.text(
            f"select row_data from {_STAGED} "
            f"order by location, origin_line limit {int(sample_size)}"
        )
    ).scalars()
    rows = [value if isinstance(value, dict) else json.loads(value) for value in sample]
    connection.execute(sa.text(f"drop table {_STAGED}"))
    return KeptRows(count=count, sample=rows)
