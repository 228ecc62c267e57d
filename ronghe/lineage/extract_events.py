"""The lineage of an extract batch: what it read from its source, what it wrote to `raw`.

An extract task's batch is one OpenLineage run of the job `extract.<source>`,
a child of the Airflow task run. Its START names the raw tables it writes;
its COMPLETE adds the inputs the load ledger recorded for the batch (one
dataset per stream and source system) and the rows each raw table received.
A batch that fails emits FAIL with the error. Every batch also writes the
landing framework's bookkeeping in schema `ops` (ledger, quarantine, file
registry, watermarks ...): those tables are outputs of each batch too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ronghe.lineage import naming
from ronghe.lineage.emit import current_task_run, emit, events_file
from ronghe.lineage.run_context import error_facet, run_context_facets
from ronghe.orchestration.assets import split_dataset_name
from ronghe.settings import Settings


def origin_dataset(settings: Settings, source: str, origins: list[str]) -> naming.DatasetId:
    """One input dataset for the origins a stream read in one batch.

    Files become the path pattern they share (`pos/*/*/lines.csv`), ERP rows
    the ERP table, API pages the endpoint they were requested from.
    """
    first = origins[0]
    if first.startswith("GET "):
        endpoint = first.split(" ", 1)[1].split("?", 1)[0]
        return naming.api_endpoint_dataset(settings.ecom_api_url or "http://localhost", endpoint)
    if source == "erp" and first.startswith("erp/") and settings.erp_url:
        return naming.database_table_dataset(settings.erp_url, first.split("/", 1)[1])
    return naming.file_pattern_dataset(settings.sources_dir or "", path_pattern(origins))


def path_pattern(paths: list[str]) -> str:
    """The glob shared by relative paths: segments that differ become `*`."""
    parts = [path.split("/") for path in paths]
    if len({len(segments) for segments in parts}) != 1:
        return f"{parts[0][0]}/**/{parts[0][-1]}"
    return "/".join(
        segments[0] if len(set(segments)) == 1 else "*" for segments in zip(*parts, strict=True)
    )


def source_field_names(source: str, stream: str) -> dict[str, str]:
    """Raw column -> the source field it holds, as the contract declares the stream.

    A stream read out of its parent's objects (an order's `items`) holds the
    list's fields (`items.qty`), the parent's fields by name, and the parent's
    `<field>` as `<parent>_<field>` (`order_updated_at` is the order's `updated_at`).
    """
    from extractors.contracts import load_source

    contract = load_source(source)
    stream_contract = contract.stream(stream)
    parent_name = stream_contract.options.get("parent")
    if not parent_name:
        return {name: name for name in stream_contract.field_names}
    parent_fields = set(contract.stream(parent_name).field_names)
    prefix = f"{str(parent_name).removesuffix('s')}_"
    list_field = stream_contract.options.get("list_field", stream)
    names = {}
    for name in stream_contract.field_names:
        if name in parent_fields:
            names[name] = name
        elif name.startswith(prefix) and name.removeprefix(prefix) in parent_fields:
            names[name] = name.removeprefix(prefix)
        else:
            names[name] = f"{list_field}.{name}"
    return names


def _column_lineage(source: str, stream: str, read_from: naming.DatasetId) -> Any:
    from openlineage.client.facet_v2 import column_lineage_dataset as columns

    # Raw keeps each field exactly as it arrived (decoded to text, nothing else).
    as_read = columns.Transformation(type="DIRECT", subtype="IDENTITY", masking=False)
    return columns.ColumnLineageDatasetFacet(
        fields={
            raw: columns.Fields(
                inputFields=[
                    columns.InputField(
                        namespace=read_from.namespace,
                        name=read_from.name,
                        field=field,
                        transformations=[as_read],
                    )
                ]
            )
            for raw, field in source_field_names(source, stream).items()
        },
        producer=naming.PRODUCER,
    )


def ledger_inputs(settings: Settings, batch_id: str) -> dict[str, list[str]]:
    """Stream -> the origins the load ledger recorded for the batch."""
    import sqlalchemy as sa

    from ronghe.quality.connection import open_engine

    with open_engine(settings) as engine, engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "select stream, origin from ops.load_ledger "
                "where batch_id = :batch_id order by stream, origin"
            ),
            {"batch_id": batch_id},
        ).all()
    by_stream: dict[str, list[str]] = defaultdict(list)
    for stream, origin in rows:
        by_stream[stream].append(origin)
    return dict(by_stream)


def _raw_dataset(settings: Settings, table: str) -> naming.DatasetId:
    return naming.warehouse_dataset(settings, *split_dataset_name(table))


def bookkeeping_tables() -> tuple[str, ...]:
    """The `ops` tables every landing batch writes (`extractors.ops_tables`)."""
    from extractors.ops_tables import OPS_TABLES

    return tuple(f"ops.{table}" for table in sorted(OPS_TABLES))


def _event(
    settings: Settings,
    state: str,
    source: str,
    run_id: str,
    parent: Any,
    *,
    inputs: list[Any],
    outputs: list[Any],
    run_facets: Mapping[str, Any] | None = None,
) -> Any:
    from openlineage.client.event_v2 import Run, RunEvent, RunState

    facets = run_context_facets(settings, parent)
    return RunEvent(
        eventType=RunState[state],
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=run_id, facets={**facets, **(run_facets or {})}),
        job=naming.batch_job(naming.extract_job(source), "RONGHE", "EXTRACT"),
        inputs=inputs,
        outputs=outputs,
        producer=naming.PRODUCER,
    )


def complete_event_parts(
    settings: Settings,
    source: str,
    raw_tables: tuple[str, ...],
    stream_tables: Mapping[str, str],
    result: Mapping[str, Any],
) -> tuple[list[Any], list[Any]]:
    """(inputs, outputs) of a finished batch, from its ledger and its per-stream counts."""
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.facet_v2 import output_statistics_output_dataset as statistics

    batch_id = result.get("batch_id")
    origins = ledger_inputs(settings, batch_id) if batch_id else {}
    inputs: dict[naming.DatasetId, Any] = {}
    read_from: dict[str, naming.DatasetId] = {}
    for stream, stream_origins in origins.items():
        dataset = origin_dataset(settings, source, stream_origins)
        inputs[dataset] = InputDataset(namespace=dataset.namespace, name=dataset.name)
        read_from[stream] = dataset
    lineage_of_table = {
        stream_tables[stream]: _column_lineage(source, stream, dataset)
        for stream, dataset in read_from.items()
    }
    loaded: dict[str, int] = defaultdict(int)
    for stream, totals in (result.get("streams") or {}).items():
        loaded[stream_tables[stream]] += int(totals.get("loaded", 0))
    outputs = []
    for table in (*raw_tables, *bookkeeping_tables()):
        dataset = _raw_dataset(settings, table)
        # Tables about deliveries (`raw.pos_drops`) have no per-stream count.
        facets = (
            {
                "outputStatistics": statistics.OutputStatisticsOutputDatasetFacet(
                    rowCount=loaded[table], producer=naming.PRODUCER
                )
            }
            if table in loaded
            else {}
        )
        column_facets = (
            {"columnLineage": lineage_of_table[table]} if table in lineage_of_table else {}
        )
        outputs.append(
            OutputDataset(
                namespace=dataset.namespace,
                name=dataset.name,
                facets=column_facets,
                outputFacets=facets,
            )
        )
    return [inputs[key] for key in sorted(inputs)], outputs


@contextmanager
def extract_lineage(
    settings: Settings, source: str, raw_tables: tuple[str, ...], stream_tables: Mapping[str, str]
) -> Iterator[dict[str, Any]]:
    """Emit START, then COMPLETE (with the batch's ledger) or FAIL, around one extract.

    The caller puts the extractor's result into the yielded dict under `result`.
    Outside an Airflow task the events go to the `ronghe` run file of the source.
    """
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import external_query_run
    from openlineage.client.uuid import generate_new_uuid

    task = current_task_run()
    path = (
        events_file(settings.home, task.dag_id, task.run_id)
        if task
        else events_file(settings.home, "ronghe", naming.extract_job(source))
    )
    parent = task.parent if task else None
    run_id = str(generate_new_uuid())
    planned = [
        OutputDataset(namespace=dataset.namespace, name=dataset.name)
        for dataset in (
            _raw_dataset(settings, table) for table in (*raw_tables, *bookkeeping_tables())
        )
    ]
    emit(
        settings,
        path,
        [_event(settings, "START", source, run_id, parent, inputs=[], outputs=planned)],
    )
    holder: dict[str, Any] = {}
    try:
        yield holder
    except Exception as error:
        failure = error_facet(error)
        event = _event(
            settings,
            "FAIL",
            source,
            run_id,
            parent,
            inputs=[],
            outputs=planned,
            run_facets={"errorMessage": failure},
        )
        emit(settings, path, [event])
        raise
    result = holder["result"]
    inputs, outputs = complete_event_parts(settings, source, raw_tables, stream_tables, result)
    # The landing batch id joins the lineage run to the raw rows' `_batch_id`.
    batch = external_query_run.ExternalQueryRunFacet(
        externalQueryId=str(result.get("batch_id")), source=source, producer=naming.PRODUCER
    )
    event = _event(
        settings,
        "COMPLETE",
        source,
        run_id,
        parent,
        inputs=inputs,
        outputs=outputs,
        run_facets={"externalQuery": batch},
    )
    emit(settings, path, [event])
