"""Run quality suites as Great Expectations checkpoints, store every result, gate the run.

`run_quality_gate(layer_or_suites, settings, run_id)` builds the selected
suites from `expectations/` with the thresholds of `config/ronghe.yml`, runs
one GX Checkpoint per suite against the warehouse in SQL (no table is pulled
into pandas), keeps every result and the failing rows in `ops.dq_*`, and then
raises `QualityGateFailed` naming every failed blocking rule with sample rows.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
import sqlalchemy as sa
from great_expectations.core.run_identifier import RunIdentifier

from expectations import all_suites
from ronghe.config import load_config
from ronghe.quality import store
from ronghe.quality.connection import existing_tables, open_engine
from ronghe.quality.gx_context import WHOLE_TABLE, GxWarehouse, open_warehouse
from ronghe.quality.query_rule import FAILING_ROWS_TABLE_PREFIX, failing_rows_table
from ronghe.quality.spec import GX_SEVERITY, LAYERS, Suite, severity_of, suite_version
from ronghe.settings import Settings

# Expectations whose failing rows are those their SQL returns (see query_rule.py).
UNEXPECTED_ROWS = {"unexpected_rows_expectation", "expect_query_to_return_no_rows"}
# GX repeats a failing query in every message; an error is kept this long.
ERROR_CHARS = 2000


class QualityGateFailed(RuntimeError):
    """Blocking checks failed; the message names them and shows failing rows."""

    def __init__(self, message: str, summary: dict[str, Any]) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass
class RuleOutcome:
    rule_id: str
    severity: str
    success: bool
    row: dict[str, Any]
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocks(self) -> bool:
        """A failed blocking rule, or any rule that could not run: a broken check
        is a fault of the pipeline, whatever the rule's severity."""
        return not self.success and (self.severity == "block" or self.row["error"] is not None)

    @property
    def warns(self) -> bool:
        return not self.success and not self.blocks


def quality_config(settings: Settings) -> dict[str, Any]:
    """The whole reviewed configuration; suites read `quality` and `business_rules`."""
    config = load_config(settings.config_path)
    if "quality" not in config:
        raise KeyError(f"{settings.config_path} has no `quality` section")
    return config


def select_suites(layer_or_suites: str | Sequence[str], config: Mapping[str, Any]) -> list[Suite]:
    """Suites by layer name (`raw`, `marts` ...) or by suite name, in declaration order."""
    wanted = [layer_or_suites] if isinstance(layer_or_suites, str) else list(layer_or_suites)
    suites = all_suites(config)
    by_name = {suite.name: suite for suite in suites}
    unknown = [name for name in wanted if name not in LAYERS and name not in by_name]
    if unknown:
        raise ValueError(
            f"unknown quality layers or suites {unknown}; layers are {list(LAYERS)}, "
            f"suites are {sorted(by_name)}"
        )
    return [suite for suite in suites if suite.layer in wanted or suite.name in wanted]


def run_quality_gate(
    layer_or_suites: str | Sequence[str], settings: Settings, run_id: str
) -> dict[str, Any]:
    """Validate the selected suites, store all results, raise if a blocking rule failed.

    Returns a small summary: suites and rules run, failed blocking rule ids,
    warning rule ids, and the seconds taken.
    """
    started = time.monotonic()
    config = quality_config(settings)
    suites = select_suites(layer_or_suites, config)
    with open_engine(settings) as engine, engine.begin() as connection:
        store.ensure_tables(connection)
        present = existing_tables(connection)
        landed = _landed_tables(connection)
    tables = {suite.dataset: (suite.schema, suite.table) for suite in suites}
    outcomes: list[RuleOutcome] = []
    with open_warehouse(
        settings, {name: where for name, where in tables.items() if name in present}
    ) as warehouse:
        for suite in suites:
            if suite.dataset in present:
                outcomes += _validate_suite(
                    warehouse, suite, config, run_id, landed=suite.dataset in landed
                )
            else:
                outcomes += _record_missing(warehouse.engine, suite, config, run_id)
    summary = {
        "run_id": run_id,
        "suites": [suite.name for suite in suites],
        "rules": len(outcomes),
        "passed": sum(outcome.success for outcome in outcomes),
        "blocking_failures": [o.rule_id for o in outcomes if o.blocks],
        "warnings": [o.rule_id for o in outcomes if o.warns],
        "seconds": round(time.monotonic() - started, 2),
    }
    summary["success"] = not summary["blocking_failures"]
    if not summary["success"]:
        raise QualityGateFailed(_failure_message(run_id, outcomes, summary), summary)
    return summary


def gx_suite(context: Any, suite: Suite, config: Mapping[str, Any]) -> Any:
    """Add the suite to a GX context, each expectation carrying its rule id, kind and severity."""
    quality = config["quality"]
    expectations = []
    for check in suite.checks:
        rule_id = suite.rule_id(check)
        severity = severity_of(rule_id, check.kind, quality)
        expectation = check.expectation.copy(deep=True)
        expectation.severity = GX_SEVERITY[severity]
        expectation.meta = {
            "rule_id": rule_id,
            "kind": check.kind,
            "severity": severity,
            "meaning": check.meaning,
        }
        if not expectation.description:
            expectation.description = check.meaning
        expectations.append(expectation)
    # Added whole: adding expectations one by one to a stored suite re-serialises it each time.
    return context.suites.add(
        gx.ExpectationSuite(
            name=suite.name,
            expectations=expectations,
            meta={"layer": suite.layer, "dataset": suite.dataset},
        )
    )


def _validate_suite(
    warehouse: GxWarehouse, suite: Suite, config: Mapping[str, Any], run_id: str, *, landed: bool
) -> list[RuleOutcome]:
    quality = config["quality"]
    definition = warehouse.context.validation_definitions.add(
        gx.ValidationDefinition(
            name=suite.name,
            data=warehouse.datasource.get_asset(suite.dataset).get_batch_definition(WHOLE_TABLE),
            suite=gx_suite(warehouse.context, suite, config),
        )
    )
    checkpoint = warehouse.context.checkpoints.add(
        gx.Checkpoint(
            name=suite.name,
            validation_definitions=[definition],
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": list(suite.row_key),
                "partial_unexpected_count": int(quality["sample_failing_rows"]),
                "return_unexpected_index_query": True,
            },
        )
    )
    run_result = checkpoint.run(run_id=RunIdentifier(run_name=run_id))
    (validation,) = run_result.run_results.values()
    validation_id = str(uuid.uuid4())
    validated_at = store.utc_now()
    version = suite_version(suite, quality)
    data_version = _data_version(warehouse.engine, suite, landed=landed)
    outcomes: list[RuleOutcome] = []
    with _suite_writes(warehouse) as connection:
        kept_rows = _kept_failing_rows_tables(connection, validation.results)
        for result in validation.results:
            outcomes.append(
                _outcome(
                    connection,
                    result,
                    suite=suite,
                    quality=quality,
                    kept_rows=kept_rows,
                    common={
                        "validation_id": validation_id,
                        "run_id": run_id,
                        "validated_at": validated_at,
                        "layer": suite.layer,
                        "suite": suite.name,
                        "suite_version": version,
                        "dataset": suite.dataset,
                        "data_version": data_version,
                    },
                )
            )
        store.write_validation(
            connection,
            {
                "validation_id": validation_id,
                "run_id": run_id,
                "validated_at": validated_at,
                "layer": suite.layer,
                "suite": suite.name,
                "suite_version": version,
                "dataset": suite.dataset,
                "success": all(o.success for o in outcomes),
                "blocking_failures": sum(o.blocks for o in outcomes),
                "warnings": sum(o.warns for o in outcomes),
                "evaluated": len(outcomes),
                "data_version": data_version,
                "gx_result": validation.to_json_dict(),
            },
            [outcome.row for outcome in outcomes],
        )
        for table in kept_rows:
            connection.execute(sa.text(f"drop table {table}"))
    return outcomes


@contextmanager
def _suite_writes(warehouse: GxWarehouse) -> Iterator[sa.Connection]:
    """One transaction for a suite's results and evidence, on GX's connection if it keeps one.

    The temporary tables holding SQL rules' rows (`query_rule.py`) live on that
    connection; committing GX's reads first keeps them for the copy.
    """
    connection = warehouse.connection
    if connection is None:
        with warehouse.engine.begin() as fresh:
            yield fresh
        return
    try:
        connection.commit()
    except sa.exc.DBAPIError:
        # A check whose query failed aborted the transaction and the rows kept in it;
        # the runner then selects failing rows again from their queries.
        connection.rollback()
    with connection.begin():
        yield connection


def _kept_failing_rows_tables(connection: sa.Connection, results: Sequence[Any]) -> set[str]:
    """The temporary tables of failing rows the suite's failed SQL rules left on this connection.

    A table is missing where GX opens a connection per query, or where a failed
    query rolled back the transaction the rows were kept in.
    """
    expected = {
        failing_rows_table(result.expectation_config.kwargs["unexpected_rows_query"])
        for result in results
        if not result.success and result.expectation_config.type in UNEXPECTED_ROWS
    }
    if not expected:
        return set()
    present = connection.execute(
        sa.text(
            "select table_name from information_schema.tables "
            "where table_type = 'LOCAL TEMPORARY' and table_name like :prefix"
        ),
        {"prefix": f"{FAILING_ROWS_TABLE_PREFIX}%"},
    ).scalars()
    return expected & set(present)


def _outcome(
    connection: sa.Connection,
    result: Any,
    *,
    suite: Suite,
    quality: Mapping[str, Any],
    common: dict[str, Any],
    kept_rows: set[str],
) -> RuleOutcome:
    configuration = result.expectation_config
    meta = configuration.meta
    details = result.result or {}
    error = _error_of(result)
    failing_query = None if result.success else _failing_rows_query(configuration, details, suite)
    kept = store.KeptRows(count=0, sample=[])
    if failing_query is not None and error is None:
        kept = store.keep_failing_rows(
            connection,
            validation_id=common["validation_id"],
            run_id=common["run_id"],
            rule_id=meta["rule_id"],
            failing_rows_query=_evidence_source(configuration, failing_query, kept_rows),
            limit=int(quality["evidence_row_limit"]),
            sample_size=int(quality["sample_failing_rows"]),
        )
    observed = details.get("observed_value")
    unexpected_count = details.get("unexpected_count")
    if configuration.type in UNEXPECTED_ROWS:
        unexpected_count = observed
    row = {
        **common,
        "rule_id": meta["rule_id"],
        "kind": meta["kind"],
        "expectation_type": configuration.type,
        "severity": meta["severity"],
        "success": bool(result.success),
        "meaning": meta["meaning"],
        "observed_value": observed,
        "element_count": details.get("element_count"),
        "unexpected_count": unexpected_count,
        "unexpected_percent": details.get("unexpected_percent"),
        "sample_failing_rows": kept.sample or None,
        "failing_rows_kept": kept.count,
        "failing_rows_query": failing_query,
        "error": error,
    }
    return RuleOutcome(meta["rule_id"], meta["severity"], bool(result.success), row, kept.sample)


def _error_of(result: Any) -> str | None:
    """GX's exception messages for a result that could not be computed, once each."""
    info = result.exception_info
    if info.get("raised_exception"):
        messages = [info.get("exception_message")]
    else:
        messages = [v.get("exception_message") for v in info.values() if isinstance(v, dict)]
    unique = list(dict.fromkeys(str(m) for m in messages if m))
    if not unique:
        return None
    text = "; ".join(unique)
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS] + " ..."


def _failing_rows_query(configuration: Any, details: Mapping[str, Any], suite: Suite) -> str | None:
    """SQL that returns the rows a failed expectation objects to, or None for table-level checks."""
    if configuration.type in UNEXPECTED_ROWS:
        return configuration.kwargs["unexpected_rows_query"].replace("{batch}", suite.dataset)
    query = details.get("unexpected_index_query")
    return query.strip().rstrip(";") if isinstance(query, str) else None


def _evidence_source(configuration: Any, failing_query: str, kept_rows: set[str]) -> str:
    """Where a failing rule's rows are copied from: the rows its counting query kept, if any."""
    if configuration.type in UNEXPECTED_ROWS:
        table = failing_rows_table(configuration.kwargs["unexpected_rows_query"])
        if table in kept_rows:
            return f"select * from {table}"
    return failing_query


def _landed_tables(connection: sa.Connection) -> set[str]:
    """`schema.table` of every table with landing metadata (`_batch_id` and `_loaded_at`)."""
    return set(
        connection.execute(
            sa.text(
                "select table_schema || '.' || table_name from information_schema.columns "
                "where column_name in ('_batch_id', '_loaded_at') "
                "group by table_schema, table_name having count(*) = 2"
            )
        ).scalars()
    )


def _data_version(engine: sa.Engine, suite: Suite, *, landed: bool) -> dict[str, Any]:
    """What the suite saw: the row count and, for landed tables, the last batch and load.

    Raw tables are append-only, so the row count and the newest batch identify
    their content; counting distinct batches would cost a second scan.
    """
    with engine.connect() as connection:
        measures = ["count(*) as row_count"]
        if landed:
            measures += [
                "max(_batch_id) as last_batch_id",
                "max(_loaded_at) as last_loaded_at",
            ]
        row = (
            connection.execute(sa.text(f"select {', '.join(measures)} from {suite.dataset}"))
            .mappings()
            .one()
        )
    return {key: (str(value) if key == "last_loaded_at" else value) for key, value in row.items()}


def _record_missing(
    engine: sa.Engine, suite: Suite, config: Mapping[str, Any], run_id: str
) -> list[RuleOutcome]:
    """A suite whose table does not exist fails as a whole, blocking, with a clear reason."""
    validation_id = str(uuid.uuid4())
    validated_at = store.utc_now()
    rule_id = f"{suite.name}.table_exists"
    message = f"table {suite.dataset} does not exist; was the step that builds it run?"
    row = {
        "validation_id": validation_id,
        "run_id": run_id,
        "validated_at": validated_at,
        "layer": suite.layer,
        "suite": suite.name,
        "suite_version": suite_version(suite, config["quality"]),
        "dataset": suite.dataset,
        "rule_id": rule_id,
        "kind": "schema",
        "expectation_type": "table_exists",
        "severity": "block",
        "success": False,
        "meaning": f"The table {suite.dataset} exists, so its checks can run.",
        "observed_value": None,
        "element_count": None,
        "unexpected_count": None,
        "unexpected_percent": None,
        "data_version": None,
        "sample_failing_rows": None,
        "failing_rows_kept": 0,
        "failing_rows_query": None,
        "error": message,
    }
    with engine.begin() as connection:
        store.write_validation(
            connection,
            {
                key: row[key]
                for key in (
                    "validation_id",
                    "run_id",
                    "validated_at",
                    "layer",
                    "suite",
                    "suite_version",
                    "dataset",
                    "success",
                    "data_version",
                )
            }
            | {"blocking_failures": 1, "warnings": 0, "evaluated": 1, "gx_result": None},
            [row],
        )
    return [RuleOutcome(rule_id, "block", False, row)]


def _failure_message(run_id: str, outcomes: list[RuleOutcome], summary: dict[str, Any]) -> str:
    failed = [o for o in outcomes if o.blocks]
    lines = [
        f"Quality gate failed for run {run_id}: {len(failed)} blocking rule(s) failed "
        f"({summary['passed']} of {summary['rules']} rules passed, "
        f"{len(summary['warnings'])} warning(s)).",
    ]
    for outcome in failed:
        row = outcome.row
        what = (
            f"the check could not run: {row['error'].splitlines()[0][:300]}"
            if row["error"]
            else _observation(row)
        )
        lines.append(f"- {outcome.rule_id} [{row['expectation_type']}]: {what}")
        lines.append(f"    rule: {row['meaning']}")
        for sample in outcome.sample[:3]:
            lines.append(f"    failing row: {json.dumps(sample, ensure_ascii=False, default=str)}")
    lines.append(f"Evidence: ops.dq_results and ops.dq_failing_rows where run_id = '{run_id}'.")
    return "\n".join(lines)


def _observation(row: Mapping[str, Any]) -> str:
    if row["unexpected_count"] is not None:
        total = f" of {row['element_count']}" if row["element_count"] is not None else ""
        return f"{row['unexpected_count']}{total} rows unexpected"
    return f"observed {json.dumps(row['observed_value'], ensure_ascii=False, default=str)}"
