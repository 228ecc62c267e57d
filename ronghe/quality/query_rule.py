"""`ExpectQueryToReturnNoRows`: GX's UnexpectedRowsExpectation, counted only.

GX's own expectation computes two metrics from its query: the row count and
the first rows themselves, so the query runs twice. The runner copies every
failing row into `ops.dq_failing_rows` itself (bounded, server-side), so the
fetched rows are never used; this subclass depends on the count alone, which
halves the cost of every SQL rule. Verdict, parameters and `{batch}`
substitution are GX's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.expectations.core.unexpected_rows_expectation import (
    UnexpectedRowsExpectation,
)


class ExpectQueryToReturnNoRows(UnexpectedRowsExpectation):
    """Passes when `unexpected_rows_query` returns no rows; observes how many it returns."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        unexpected = metrics["unexpected_rows_query.row_count"]
        return {"success": unexpected == 0, "result": {"observed_value": unexpected}}
