"""`ExpectQueryToReturnNoRows`: GX's UnexpectedRowsExpectation, counted once, rows kept.

GX's own expectation computes two metrics from its query: the row count and
the first rows themselves, so the query runs twice, and the runner then ran it
a third time to copy a failing rule's rows into `ops.dq_failing_rows`. This
subclass depends on one metric, `unexpected_rows_query.kept_row_count`: where
GX runs every query on one kept connection (DuckDB, see `gx_duckdb.py`), the
query's rows are materialised once into a temporary table on that connection
(`failing_rows_table`) and counted there; the table is kept only when it has
rows, and the runner copies a failing rule's evidence from it and drops it.
Elsewhere the metric is GX's plain count and the runner selects the failing
rows again. Verdict, parameters and `{batch}` substitution are GX's.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import sqlalchemy as sa
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.core.unexpected_rows_expectation import (
    UnexpectedRowsExpectation,
)
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metric_provider import (
    render_derived_table_alias,
)
from great_expectations.expectations.metrics.query_metrics.query_row_count.unexpected_rows_query_row_count import (  # noqa: E501
    UnexpectedRowsQueryRowCount,
)

from ronghe.quality.gx_duckdb import kept_connection

FAILING_ROWS_TABLE_PREFIX = "dq_failing_"


def failing_rows_table(unexpected_rows_query: str) -> str:
    """The temporary table holding the rows of one rule's query (its text, before `{batch}`)."""
    digest = hashlib.sha256(unexpected_rows_query.encode()).hexdigest()[:16]
    return f"{FAILING_ROWS_TABLE_PREFIX}{digest}"


class UnexpectedRowsKeptRowCount(UnexpectedRowsQueryRowCount):
    """The number of rows the query returns, the rows kept in a temporary table when possible."""

    metric_name = "unexpected_rows_query.kept_row_count"

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: dict[str, Any],
        runtime_configuration: dict,
    ) -> int:
        batch_selectable, _, _ = execution_engine.get_compute_domain(
            metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )
        query = cls._get_query_from_metric_value_kwargs(metric_value_kwargs)
        found = render_derived_table_alias(
            subquery=cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
                query=query, batch_selectable=batch_selectable, execution_engine=execution_engine
            ),
            alias="substituted_batch_subquery",
            dialect_name=execution_engine.dialect_name,
        )
        connection = kept_connection(execution_engine)
        if connection is not None:
            table = failing_rows_table(query)
            try:
                connection.execute(sa.text(f"drop table if exists {table}"))
                keep = f"create temporary table {table} as select * from {found}"
                connection.execute(sa.text(keep))
                count = connection.execute(sa.text(f"select count(*) from {table}")).scalar_one()
                if count == 0:
                    connection.execute(sa.text(f"drop table {table}"))
                # Committed, the rows outlive the rollbacks other checks' connections make
                # on the same DuckDB connection (duckdb-engine pools one per thread).
                connection.commit()
                return int(count)
            except sa.exc.DBAPIError:
                # A query that cannot be kept is counted as GX counts it, and fails
                # with GX's message if it cannot run; its rows are selected again.
                connection.rollback()
        count_query = f"SELECT COUNT(*) as unexpected_row_count FROM {found}"
        return int(execution_engine.execute_query(sa.text(count_query)).scalar_one())


class ExpectQueryToReturnNoRows(UnexpectedRowsExpectation):
    """Passes when `unexpected_rows_query` returns no rows; observes how many it returns."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.kept_row_count",)

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        unexpected = metrics["unexpected_rows_query.kept_row_count"]
        return {"success": unexpected == 0, "result": {"observed_value": unexpected}}
