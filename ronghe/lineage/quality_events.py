"""The lineage of the quality checkpoints: each suite's verdict on the dataset it checked.

The quality gates keep every validation in the evidence store
(`ops.dq_validations`, `ops.dq_results`). After a gate, one COMPLETE event per
suite it ran records the checkpoint as an OpenLineage run of the job
`quality.<suite>`: its input is the suite's dataset (the same name as the
table's Airflow asset and dbt relation), carrying a `dataQualityAssertions`
facet with every rule's id, verdict and severity. A failing rule is a verdict
the checkpoint reached, so the run is COMPLETE; the gate's task fails on it.
Its outputs are the evidence store's tables the verdict was written to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ronghe.lineage import naming
from ronghe.lineage.emit import current_task_run, emit, events_file
from ronghe.lineage.run_context import run_context_facets
from ronghe.settings import Settings

EVIDENCE_TABLES = ("ops.dq_validations", "ops.dq_results", "ops.dq_failing_rows")
"""Where every checkpoint writes its verdict (`ronghe.quality.store`)."""

# The latest validation of each suite of a run (a re-run adds rows, never overwrites).
VALIDATIONS_QUERY = """
select validation_id, suite, dataset, validated_at
from (
    select
        validation_id, suite, dataset, validated_at, layer,
        row_number() over (partition by suite order by validated_at desc) as newest
    from ops.dq_validations
    where run_id = :run_id
) as validations
where newest = 1 and layer in :layers
order by suite
"""

RESULTS_QUERY = """
select validation_id, rule_id, expectation_type, severity, success, meaning, unexpected_count
from ops.dq_results
where validation_id in :validation_ids
order by rule_id
"""


def _rows(settings: Settings, run_id: str, layers: list[str]) -> tuple[list, list]:
    import sqlalchemy as sa

    from ronghe.quality.connection import open_engine

    with open_engine(settings) as engine, engine.connect() as connection:
        validations = connection.execute(
            sa.text(VALIDATIONS_QUERY).bindparams(sa.bindparam("layers", expanding=True)),
            {"run_id": run_id, "layers": layers},
        ).all()
        if not validations:
            return [], []
        results = connection.execute(
            sa.text(RESULTS_QUERY).bindparams(sa.bindparam("validation_ids", expanding=True)),
            {"validation_ids": [row.validation_id for row in validations]},
        ).all()
    return list(validations), list(results)


def checkpoint_event(settings: Settings, validation: Any, results: list[Any], parent: Any) -> Any:
    """One suite's validation as a COMPLETE event with its assertions."""
    from openlineage.client.event_v2 import (
        InputDataset,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dq
    from openlineage.client.uuid import generate_new_uuid

    assertions = [
        dq.Assertion(
            assertion=row.rule_id,
            success=bool(row.success),
            severity=row.severity,
            name=row.expectation_type,
            description=row.meaning,
            actual=None if row.unexpected_count is None else f"{row.unexpected_count} rows",
        )
        for row in results
    ]
    dataset = naming.warehouse_dataset(settings, *validation.dataset.split(".", 1))
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=validation.validated_at.isoformat() + "Z",
        run=Run(runId=str(generate_new_uuid()), facets=run_context_facets(settings, parent)),
        job=naming.batch_job(f"quality.{validation.suite}", "GREAT_EXPECTATIONS", "CHECKPOINT"),
        inputs=[
            InputDataset(
                namespace=dataset.namespace,
                name=dataset.name,
                inputFacets={
                    "dataQualityAssertions": dq.DataQualityAssertionsDatasetFacet(
                        assertions=assertions, producer=naming.PRODUCER
                    )
                },
            )
        ],
        outputs=[
            OutputDataset(namespace=evidence.namespace, name=evidence.name)
            for evidence in (
                naming.warehouse_dataset(settings, *table.split(".")) for table in EVIDENCE_TABLES
            )
        ],
        producer=naming.PRODUCER,
    )


def emit_quality_lineage(settings: Settings, run_id: str, layers: Iterable[str]) -> int:
    """Record the suites of these layers that ran under `run_id`; return how many."""
    validations, results = _rows(settings, run_id, list(layers))
    if not validations:
        return 0
    task = current_task_run()
    path = (
        events_file(settings.home, task.dag_id, task.run_id)
        if task
        else events_file(settings.home, "ronghe", "quality")
    )
    parent = task.parent if task else None
    by_validation: dict[str, list[Any]] = {}
    for row in results:
        by_validation.setdefault(row.validation_id, []).append(row)
    emit(
        settings,
        path,
        [
            checkpoint_event(settings, v, by_validation.get(v.validation_id, []), parent)
            for v in validations
        ],
    )
    return len(validations)
