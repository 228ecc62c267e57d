"""Small constructors for the checks the suites repeat, so each suite reads as a list of rules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import great_expectations.expectations as gxe
from great_expectations.expectations.metrics.query_metric_provider import _query_has_join_clause

from ronghe.quality.column_types import ExpectColumnsToHaveTypes
from ronghe.quality.query_rule import ExpectQueryToReturnNoRows
from ronghe.quality.spec import Check

_ALIASED_BATCH = re.compile(r"\{batch\}\s+as\s+\w+", re.IGNORECASE)


def columns_present(columns: Iterable[str], where: str) -> Check:
    columns = list(columns)
    return Check(
        rule="columns_present",
        kind="schema",
        expectation=gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=False),
        meaning=f"Every column {where} defines is present ({', '.join(columns)}).",
    )


def column_types(families: Mapping[str, str], where: str) -> Check:
    return Check(
        rule="column_types",
        kind="schema",
        expectation=ExpectColumnsToHaveTypes(column_families=dict(families)),
        meaning=f"Every column has the type {where} gives it (source fields as text, "
        "lineage and bookkeeping columns typed).",
    )


def has_rows(kind: str = "volume", why: str = "") -> Check:
    return Check(
        rule="has_rows",
        kind=kind,
        expectation=gxe.ExpectTableRowCountToBeBetween(min_value=1),
        meaning=f"The table is not empty{': ' + why if why else '.'}",
    )


def no_rows(rule: str, kind: str, query: str, meaning: str) -> Check:
    """A rule written as SQL returning the rows that break it; `{batch}` is the suite's table.

    The query's columns are the evidence an auditor reads, so it should return
    the row's origin or natural key and the values that break the rule.

    GX substitutes `{batch}` in two ways: in a query with a JOIN anywhere it
    writes a bare parenthesised subquery, which needs our alias
    (`{batch} as rows`); otherwise it adds an alias of its own, so ours would
    be a syntax error. We enforce that here rather than learn it on PostgreSQL.
    """
    aliased = _ALIASED_BATCH.search(query) is not None
    if _query_has_join_clause(query) != aliased:
        raise ValueError(
            f"rule {rule}: write `{{batch}} as <alias>` in a query with a JOIN, and a bare "
            "`{batch}` in a query without one"
        )
    return Check(
        rule=rule,
        kind=kind,
        expectation=ExpectQueryToReturnNoRows(unexpected_rows_query=query, description=meaning),
        meaning=meaning,
    )


def at_least(column: str, minimum: float, kind: str, meaning: str, rule: str = "") -> Check:
    return Check(
        rule=rule or f"{column}_at_least_{minimum:g}",
        kind=kind,
        expectation=gxe.ExpectColumnValuesToBeBetween(column=column, min_value=minimum),
        meaning=meaning,
    )
