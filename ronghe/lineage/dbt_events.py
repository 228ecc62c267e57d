"""The lineage of a dbt build: one OpenLineage run per model, with column lineage.

After every dbt build, failed or not, the build task passes the build's
artifacts (manifest and run results) to openlineage-dbt's
`DbtLocalArtifactProcessor`, which makes one COMPLETE or FAIL event per model
with its inputs, output, schema and compiled SQL (`build_events`). A model
dbt skipped because something it depends on failed gets an ABORT event naming
what failed, and a FAIL event carries dbt's error message, so the lineage of
a failed build shows an auditor what failed and what was not built. This
module then makes the events Ronghe's:

- datasets get Ronghe's names (`<schema>.<table>` in the warehouse's
  namespace), the names of the Airflow assets and quality suites;
- jobs are named `dbt.model.<model>` and become children of the build task,
  tagged with the code version and configuration hash;
- the column-lineage facet is computed from the compiled SQL and the
  warehouse catalog (`ronghe.lineage.columns`), which sees through `select *`.

A model whose SQL the column parser cannot read keeps its event without the
facet, and the reason is logged; the lineage coverage test lists it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ronghe.lineage import naming
from ronghe.lineage.column_cache import ColumnLineageCache
from ronghe.lineage.columns import COLUMNS_QUERY, Catalog, Indirect, catalog_from_rows
from ronghe.lineage.emit import column_cache_file, current_task_run, emit, events_file
from ronghe.lineage.run_context import context_tags
from ronghe.settings import Settings

log = logging.getLogger(__name__)

TAGS_SCHEMA_URL = "https://openlineage.io/spec/facets/1-0-0/TagsRunFacet.json#/$defs/TagsRunFacet"
COLUMN_LINEAGE_SCHEMA_URL = (
    "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
    "#/$defs/ColumnLineageDatasetFacet"
)


def read_catalog(settings: Settings) -> Catalog:
    """The warehouse's columns (`information_schema`), as the column parser reads them."""
    import sqlalchemy as sa

    from ronghe.quality.connection import open_engine

    with open_engine(settings) as engine, engine.connect() as connection:
        return catalog_from_rows([tuple(row) for row in connection.execute(sa.text(COLUMNS_QUERY))])


def _rename_dataset(dataset: dict[str, Any], namespace: str) -> None:
    """`<database>.<schema>.<table>` -> `<schema>.<table>` in the warehouse namespace."""
    parts = dataset["name"].split(".")
    dataset["namespace"] = namespace
    dataset["name"] = ".".join(parts[-2:])


def _column_lineage_facet(
    sql: str, inputs: list[str], lineage: ColumnLineageCache, namespace: str
) -> dict[str, Any] | None:
    try:
        columns, chosen_by = lineage.lineage(sql, inputs)
    except Exception as error:  # the model's event stays; coverage reports the gap
        log.warning("no column lineage for this model: the SQL parser failed (%s)", error)
        return None
    fields = {
        column: {
            "inputFields": [
                {"namespace": namespace, "name": f"{schema}.{table}", "field": field}
                for schema, table, field in sources
            ]
            + _indirect_fields(chosen_by[column], namespace)
        }
        for column, sources in columns.items()
    }
    return {
        "_producer": naming.PRODUCER,
        "_schemaURL": COLUMN_LINEAGE_SCHEMA_URL,
        "fields": fields,
    }


def _indirect_fields(chosen_by: list[Indirect], namespace: str) -> list[dict[str, Any]]:
    """One input field per table column that chose the rows, with each way it did."""
    subtypes: dict[tuple[str, str, str], list[str]] = {}
    for schema, table, field, subtype in chosen_by:
        subtypes.setdefault((schema, table, field), []).append(subtype)
    return [
        {
            "namespace": namespace,
            "name": f"{schema}.{table}",
            "field": field,
            "transformations": [{"type": "INDIRECT", "subtype": s} for s in sorted(kinds)],
        }
        for (schema, table, field), kinds in sorted(subtypes.items())
    ]


def ronghe_event(
    event: dict[str, Any],
    namespace: str,
    lineage: ColumnLineageCache,
    parent: dict[str, Any] | None,
    context: list[dict[str, Any]],
) -> dict[str, Any]:
    """One processor event (as a dict) with Ronghe's names, parent and column lineage."""
    node = event["job"]["facets"].get("dbt_node", {})
    model = node.get("alias") or event["job"]["name"].split(".")[-1]
    event["job"]["namespace"] = naming.JOB_NAMESPACE
    event["job"]["name"] = naming.dbt_model_job(model)
    run_facets = event["run"].setdefault("facets", {})
    if parent is not None:
        run_facets["parent"] = parent
    tags = run_facets.setdefault(
        "tags", {"_producer": naming.PRODUCER, "_schemaURL": TAGS_SCHEMA_URL, "tags": []}
    )
    tags.setdefault("tags", []).extend(context)
    inputs = [dataset["name"] for dataset in event.get("inputs", [])]
    for dataset in event.get("inputs", []):
        _rename_dataset(dataset, namespace)
    sql = event["job"]["facets"].get("sql", {}).get("query")
    for dataset in event.get("outputs", []):
        _rename_dataset(dataset, namespace)
        facets = dataset.setdefault("facets", {})
        facets.pop("columnLineage", None)
        if sql and event["eventType"] == "COMPLETE":
            facet = _column_lineage_facet(sql, inputs, lineage, namespace)
            if facet is not None:
                facets["columnLineage"] = facet
    return event


def _error_facet(message: str) -> dict[str, Any]:
    from openlineage.client.facet_v2 import error_message_run
    from openlineage.client.serde import Serde

    facet = error_message_run.ErrorMessageRunFacet(
        message=message[:4000], programmingLanguage="sql", producer=naming.PRODUCER
    )
    return Serde.to_dict(facet)


def _failed_ancestors(manifest: dict[str, Any], node: str, failed: set[str]) -> list[str]:
    """The failed nodes (models, tests) a skipped node depends on, directly or not."""
    found, seen, pending = set(), set(), list(manifest["parent_map"].get(node, []))
    while pending:
        parent = pending.pop()
        if parent in seen:
            continue
        seen.add(parent)
        if parent in failed:
            found.add(parent)
        pending.extend(manifest["parent_map"].get(parent, []))
    return sorted(found)


def _skipped_event(manifest: dict[str, Any], node_id: str, failed: set[str]) -> dict[str, Any]:
    """An ABORT event for a model dbt did not build because something upstream failed."""
    from openlineage.client.event_v2 import OutputDataset, Run, RunEvent, RunState
    from openlineage.client.serde import Serde
    from openlineage.client.uuid import generate_new_uuid

    node = manifest["nodes"][node_id]
    relation = node.get("alias") or node["name"]
    causes = _failed_ancestors(manifest, node_id, failed) or ["an upstream node"]
    event = RunEvent(
        eventType=RunState.ABORT,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=str(generate_new_uuid())),
        job=naming.batch_job(relation, "DBT", "MODEL"),
        outputs=[OutputDataset(namespace="", name=f"{node['schema']}.{relation}")],
        producer=naming.PRODUCER,
    )
    as_dict = Serde.to_dict(event)
    as_dict["run"]["facets"] = {
        "errorMessage": _error_facet(f"skipped by dbt: {', '.join(causes)} failed")
    }
    return as_dict


def build_events(
    project_dir: Path, target: str, target_path: Path | None = None
) -> list[dict[str, Any]]:
    """The model events of a dbt build, succeeded or failed, as dicts (see the module docstring).

    openlineage-dbt renders the profile, so the dbt environment must be set.
    A build that stopped before running any node (a project that does not
    parse) leaves no run results and has no model to record.
    """
    from openlineage.client.serde import Serde
    from openlineage.common.provider.dbt.local import DbtLocalArtifactProcessor

    target_path = target_path or project_dir / "target"
    if not (target_path / "run_results.json").is_file():
        return []
    processor = DbtLocalArtifactProcessor(
        producer=naming.PRODUCER,
        job_namespace=naming.JOB_NAMESPACE,
        project_dir=str(project_dir),
        profile_name="ronghe",
        target=target,
        target_path=str(target_path),
    )
    processor.should_raise_on_unsupported_command = False
    parsed = processor.parse()
    events = [Serde.to_dict(event) for event in (*parsed.completes, *parsed.fails)]
    run_results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))
    messages = {r["unique_id"]: r.get("message") or r["status"] for r in run_results["results"]}
    for event in events:
        if event["eventType"] == "FAIL":
            node = event["job"]["facets"].get("dbt_node", {}).get("unique_id")
            run_facets = event["run"].setdefault("facets", {})
            run_facets["errorMessage"] = _error_facet(str(messages.get(node, "failed")))
    failed = {r["unique_id"] for r in run_results["results"] if r["status"] in ("error", "fail")}
    skipped = [
        r["unique_id"]
        for r in run_results["results"]
        if r["status"] == "skipped" and r["unique_id"].startswith("model.")
    ]
    if skipped:
        manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
        events += [_skipped_event(manifest, node, failed) for node in skipped]
    return events


def emit_build_lineage(settings: Settings, events: list[dict[str, Any]]) -> int:
    """Emit the model events of a dbt build (`build_events`; see the module docstring)."""
    from openlineage.client.serde import Serde

    models = [e for e in events if e["job"]["facets"].get("jobType", {}).get("jobType") == "MODEL"]
    if not models:
        return 0
    task = current_task_run()
    parent = Serde.to_dict(task.parent) if task else None
    path = (
        events_file(settings.home, task.dag_id, task.run_id)
        if task
        else events_file(settings.home, "ronghe", "dbt")
    )
    namespace = naming.warehouse_namespace(settings)
    dialect = "postgres" if settings.warehouse_is_postgres else "duckdb"
    lineage = ColumnLineageCache(column_cache_file(settings.home), read_catalog(settings), dialect)
    context = [Serde.to_dict(tag) for tag in context_tags(settings)]
    emit(
        settings,
        path,
        [ronghe_event(event, namespace, lineage, parent, context) for event in models],
    )
    lineage.save()
    return len(models)
