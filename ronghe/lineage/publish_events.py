"""The lineage of a publish: each audited candidate mart copied unchanged into `marts`.

One COMPLETE event of the job `publish.marts` per publish that went through,
a child of the publish task run: inputs the `marts_candidate` tables, outputs
their `marts` copies with their row counts and a column lineage of identity
(every published column is the candidate's column of the same name). A
refused publish changes nothing and records no lineage; its refusal is in the
run's failure report and the quality results.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ronghe.lineage import naming
from ronghe.lineage.dbt_events import read_catalog
from ronghe.lineage.emit import current_task_run, emit, events_file
from ronghe.lineage.run_context import run_context_facets
from ronghe.settings import Settings

CANDIDATE_SCHEMA = "marts_candidate"
PUBLISHED_SCHEMA = "marts"
JOB_NAME = "publish.marts"
PUBLISH_LOG = "ops.publish_log"


def _published_columns(settings: Settings) -> dict[str, list[str]]:
    """Published table -> its columns, from the warehouse catalog."""
    tables: dict[str, list[str]] = {}
    for schemas in read_catalog(settings).values():
        for table, columns in schemas.get(PUBLISHED_SCHEMA, {}).items():
            tables[table] = list(columns)
    return tables


def publish_event(
    settings: Settings, rows: Mapping[str, int], columns: Mapping[str, list[str]], parent: Any
) -> Any:
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )
    from openlineage.client.facet_v2 import column_lineage_dataset as lineage
    from openlineage.client.facet_v2 import output_statistics_output_dataset as statistics
    from openlineage.client.uuid import generate_new_uuid

    namespace = naming.warehouse_namespace(settings)
    run_facets = run_context_facets(settings, parent)
    inputs, outputs = [], []
    for table, count in sorted(rows.items()):
        candidate = naming.warehouse_dataset(settings, CANDIDATE_SCHEMA, table)
        inputs.append(InputDataset(namespace=namespace, name=candidate.name))
        fields = {
            column: lineage.Fields(
                inputFields=[
                    lineage.InputField(
                        namespace=namespace,
                        name=candidate.name,
                        field=column,
                        transformations=[lineage.Transformation(type="DIRECT", subtype="IDENTITY")],
                    )
                ]
            )
            for column in columns.get(table, [])
        }
        outputs.append(
            OutputDataset(
                namespace=namespace,
                name=naming.warehouse_dataset(settings, PUBLISHED_SCHEMA, table).name,
                facets={
                    "columnLineage": lineage.ColumnLineageDatasetFacet(
                        fields=fields, producer=naming.PRODUCER
                    )
                },
                outputFacets={
                    "outputStatistics": statistics.OutputStatisticsOutputDatasetFacet(
                        rowCount=count, producer=naming.PRODUCER
                    )
                },
            )
        )
    log = naming.warehouse_dataset(settings, *PUBLISH_LOG.split("."))
    outputs.append(OutputDataset(namespace=log.namespace, name=log.name))
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=str(generate_new_uuid()), facets=run_facets),
        job=Job(namespace=naming.JOB_NAMESPACE, name=JOB_NAME),
        inputs=inputs,
        outputs=outputs,
        producer=naming.PRODUCER,
    )


def emit_publish_lineage(settings: Settings, published: Mapping[str, Any]) -> None:
    """Record a publish that went through (`publish_marts`' result)."""
    task = current_task_run()
    path = (
        events_file(settings.home, task.dag_id, task.run_id)
        if task
        else events_file(settings.home, "ronghe", JOB_NAME)
    )
    event = publish_event(
        settings, published["tables"], _published_columns(settings), task.parent if task else None
    )
    emit(settings, path, [event])
