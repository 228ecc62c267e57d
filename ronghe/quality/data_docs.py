"""GX Data Docs rendered from the evidence kept in the warehouse.

Runs keep GX's full validation result in `ops.dq_validations.gx_result`; this
module loads the results of the most recent runs into an in-memory GX context
together with the current suites, and lets GX render its static site under
RONGHE_HOME/reports/data_docs. The warehouse stays the record: the site can
be rebuilt from it at any time, and a new build replaces the old folder whole.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResultSchema,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from expectations import all_suites
from ronghe.quality.connection import existing_tables, open_engine
from ronghe.quality.gx_context import ephemeral_context
from ronghe.quality.runner import gx_suite, quality_config
from ronghe.settings import Settings


def data_docs_dir(settings: Settings) -> Path:
    return settings.home / "reports" / "data_docs"


def build_data_docs(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    """Render Data Docs for the last `quality.data_docs_runs` runs; return the index path.

    `run_id` is accepted so every pipeline step has the same signature; the
    site always shows the most recent runs, this one included.
    """
    config = quality_config(settings)
    keep_runs = int(config["quality"]["data_docs_runs"])
    target = data_docs_dir(settings)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    context = ephemeral_context(data_docs_dir=staging)
    for suite in all_suites(config):
        gx_suite(context, suite, config)
    validations = _recent_validations(settings, keep_runs)
    schema = ExpectationSuiteValidationResultSchema()
    for validation_id, suite_name, run, validated_at, result in validations:
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=RunIdentifier(run_name=run, run_time=_as_datetime(validated_at)),
            batch_identifier=validation_id,
        )
        context.validation_results_store.set(key, schema.load(_as_dict(result)))
    context.build_data_docs()
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    runs = sorted({run for _, _, run, _, _ in validations})
    return {
        "index": str(target / "index.html"),
        "runs": len(runs),
        "validations": len(validations),
    }


def _recent_validations(settings: Settings, keep_runs: int) -> list[tuple]:
    with open_engine(settings) as engine, engine.connect() as connection:
        if "ops.dq_validations" not in existing_tables(connection, "ops"):
            return []
        return [
            tuple(row)
            for row in connection.execute(
                sa.text(
                    "with recent as ("
                    "  select run_id, max(validated_at) as last_at from ops.dq_validations"
                    "  group by run_id order by last_at desc limit :keep"
                    ") "
                    "select v.validation_id, v.suite, v.run_id, v.validated_at, v.gx_result "
                    "from ops.dq_validations as v join recent on recent.run_id = v.run_id "
                    "where v.gx_result is not null order by v.validated_at"
                ),
                {"keep": keep_runs},
            )
        ]


def _as_dict(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else value


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
