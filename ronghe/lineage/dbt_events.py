"""The lineage of a dbt build: one OpenLineage run per model, with column lineage.

cosmos runs the build and hands its artifacts (manifest and run results) to
openlineage-dbt's `DbtLocalArtifactProcessor`, which makes one COMPLETE or
FAIL event per model with its inputs, output, schema and compiled SQL. This
module takes those events after the build and makes them Ronghe's:

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

import logging
from typing import TYPE_CHECKING, Any

from ronghe.lineage import naming
from ronghe.lineage.columns import (
    COLUMNS_QUERY,
    Catalog,
    catalog_from_rows,
    catalog_schema,
    column_lineage,
)
from ronghe.lineage.emit import current_task_run, emit, events_file
from ronghe.lineage.run_context import context_tags
from ronghe.settings import Settings

if TYPE_CHECKING:
    from sqlglot.schema import MappingSchema

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
    sql: str, schema: MappingSchema, dialect: str, namespace: str
) -> dict[str, Any] | None:
    try:
        columns = column_lineage(sql, schema, dialect)
    except Exception as error:  # the model's event stays; coverage reports the gap
        log.warning("no column lineage for this model: the SQL parser failed (%s)", error)
        return None
    fields = {
        column: {
            "inputFields": [
                {"namespace": namespace, "name": f"{schema}.{table}", "field": field}
                for schema, table, field in sources
            ]
        }
        for column, sources in columns.items()
    }
    return {
        "_producer": naming.PRODUCER,
        "_schemaURL": COLUMN_LINEAGE_SCHEMA_URL,
        "fields": fields,
    }


def ronghe_event(
    event: dict[str, Any],
    namespace: str,
    schema: MappingSchema,
    dialect: str,
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
    for dataset in event.get("inputs", []):
        _rename_dataset(dataset, namespace)
    sql = event["job"]["facets"].get("sql", {}).get("query")
    for dataset in event.get("outputs", []):
        _rename_dataset(dataset, namespace)
        facets = dataset.setdefault("facets", {})
        facets.pop("columnLineage", None)
        if sql and event["eventType"] == "COMPLETE":
            facet = _column_lineage_facet(sql, schema, dialect, namespace)
            if facet is not None:
                facets["columnLineage"] = facet
    return event


def emit_build_lineage(settings: Settings, processor_events: list[Any]) -> int:
    """Emit the model events of a finished dbt build (see the module docstring)."""
    from openlineage.client.serde import Serde

    events = [Serde.to_dict(event) for event in processor_events]
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
    schema = catalog_schema(read_catalog(settings), dialect)
    context = [Serde.to_dict(tag) for tag in context_tags(settings)]
    emit(
        settings,
        path,
        [ronghe_event(event, namespace, schema, dialect, parent, context) for event in models],
    )
    return len(models)
