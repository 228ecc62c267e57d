"""The lineage of the identity step: the evidence it read, the `identity` tables it wrote.

One OpenLineage run of the job `identity.resolve` per identity step, a child
of the Airflow task run: START names the tables it will write, then COMPLETE
(or FAIL with the error). Its inputs are the tables the step reads (the
prepared evidence, the ERP item master and the steward's overrides); its
outputs are every table of schema `identity`, each with the rows it holds
after the step and a column lineage saying which input fields each column is
made from.

The step is Python, so no SQL parser can tell its column lineage; it is
declared here, column by column, from what the step does (a test checks that
every declared field exists and every written column is declared):

- record ids and product codes are carried over as they are (DIRECT IDENTITY);
- a member key is minted from its cluster's oldest record (DIRECT
  TRANSFORMATION of the record id) and the cluster is formed by matching the
  contact evidence (INDIRECT GROUP_BY);
- a SKU key is the ERP item the code was matched to (DIRECT) on barcodes,
  seller SKUs and titles (INDIRECT JOIN);
- scores, rules and evidence are computed from the fields compared (DIRECT
  TRANSFORMATION).

Columns the step stamps from its own clock or run (`valid_from`, `run_id`)
have no input field.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ronghe.lineage import naming
from ronghe.lineage.emit import current_task_run, emit, events_file
from ronghe.lineage.run_context import error_facet, run_context_facets
from ronghe.settings import Settings

JOB_NAME = "identity.resolve"
SCHEMA = "identity"

RECORDS = "intermediate.int_member_records_unioned"
CONTACTS = "intermediate.int_member_contacts_observed"
CODES = "intermediate.int_product_codes_observed"
ITEMS = "staging.stg_erp__items"
OVERRIDES = "identity.overrides"
INPUTS = (RECORDS, CONTACTS, CODES, ITEMS, OVERRIDES)
"""What the step reads: `ronghe.identity.step.INPUTS` and the steward's overrides."""

Field = tuple[str, str, str]
"""(dataset, column, how): how is a transformation subtype (`IDENTITY`, `GROUP_BY` ...)."""

_INDIRECT = {"JOIN", "GROUP_BY", "FILTER", "SORT", "WINDOW", "CONDITIONAL"}


def _fields(how: str, *columns: tuple[str, str]) -> list[Field]:
    return [(dataset, column, how) for dataset, column in columns]


_RECORD_SYSTEM = ((RECORDS, "source_system"), (CONTACTS, "source_system"))
_RECORD_ID = ((RECORDS, "source_record_id"), (CONTACTS, "source_record_id"))
_EVIDENCE = (
    *((CONTACTS, column) for column in ("name", "phone", "email", "union_id", "city", "card_no")),
    (RECORDS, "gender"),
    (RECORDS, "birth_date"),
    (RECORDS, "registered_at"),
)
_CODE = ((CODES, "source_system"), (CODES, "product_code"))
_MATCHED_ON = (
    (CODES, "barcode"),
    (CODES, "item_no_hint"),
    (CODES, "title"),
    (ITEMS, "barcode"),
    (ITEMS, "item_name"),
)

_MEMBER_KEY = _fields("TRANSFORMATION", *_RECORD_SYSTEM, *_RECORD_ID) + _fields(
    "GROUP_BY", *_EVIDENCE
)
_MATCH = _fields("TRANSFORMATION", *_EVIDENCE)
_SKU_KEY = _fields("TRANSFORMATION", (ITEMS, "item_no"), *_CODE) + _fields("JOIN", *_MATCHED_ON)
_SKU_MATCH = _fields("TRANSFORMATION", *_MATCHED_ON)
_NO_INPUT: list[Field] = []

COLUMN_LINEAGE: dict[str, dict[str, list[Field]]] = {
    "member_xref": {
        "source_system": _fields("IDENTITY", *_RECORD_SYSTEM),
        "source_record_id": _fields("IDENTITY", *_RECORD_ID),
        "member_key": _MEMBER_KEY,
        "matched_by": _MATCH,
        "match_score": _MATCH,
        "valid_from": _NO_INPUT,
        "valid_to": _NO_INPUT,
        "run_id": _NO_INPUT,
    },
    "member_keys": {
        "member_key": _MEMBER_KEY,
        "status": _fields("GROUP_BY", *_EVIDENCE),
        "merged_into": _MEMBER_KEY,
        "anchor_source_system": _fields("IDENTITY", *_RECORD_SYSTEM),
        "anchor_source_record_id": _fields("IDENTITY", *_RECORD_ID),
        "minted_at": _NO_INPUT,
        "minted_run_id": _NO_INPUT,
        "retired_at": _NO_INPUT,
        "retired_run_id": _NO_INPUT,
    },
    "member_records": {
        "source_system": _fields("IDENTITY", *_RECORD_SYSTEM),
        "source_record_id": _fields("IDENTITY", *_RECORD_ID),
        "real_name": _fields("TRANSFORMATION", (CONTACTS, "name")),
        "nickname": _fields("TRANSFORMATION", (CONTACTS, "name")),
        "phone_e164": _fields("TRANSFORMATION", (CONTACTS, "phone")),
        "phone_mask": _fields("TRANSFORMATION", (CONTACTS, "phone")),
        "email": _fields("TRANSFORMATION", (CONTACTS, "email")),
        "union_id": _fields("IDENTITY", (CONTACTS, "union_id")),
        "gender": _fields("TRANSFORMATION", (RECORDS, "gender")),
        "birth_date": _fields("IDENTITY", (RECORDS, "birth_date")),
        "city": _fields("TRANSFORMATION", (CONTACTS, "city")),
        "registered_at": _fields("IDENTITY", (RECORDS, "registered_at")),
        "first_seen_at": _fields("AGGREGATION", (CONTACTS, "first_seen_at")),
        "last_seen_at": _fields("AGGREGATION", (CONTACTS, "last_seen_at")),
        "run_id": _NO_INPUT,
    },
    "member_merge_log": {
        "event_id": _NO_INPUT,
        "event_at": _NO_INPUT,
        "run_id": _NO_INPUT,
        "event_type": _fields("GROUP_BY", *_EVIDENCE),
        "member_key": _MEMBER_KEY,
        "other_key": _MEMBER_KEY,
        "records_moved": _fields("AGGREGATION", *_RECORD_ID),
        "record_ids": _fields("TRANSFORMATION", *_RECORD_SYSTEM, *_RECORD_ID),
        "reason": _MATCH,
        "match_score": _MATCH,
        "evidence": _MATCH,
        "model_version": _NO_INPUT,
        "config_hash": _NO_INPUT,
    },
    "review_queue": {
        "left_source_system": _fields("IDENTITY", *_RECORD_SYSTEM),
        "left_source_record_id": _fields("IDENTITY", *_RECORD_ID),
        "right_source_system": _fields("IDENTITY", *_RECORD_SYSTEM),
        "right_source_record_id": _fields("IDENTITY", *_RECORD_ID),
        "rule": _MATCH,
        "probability": _MATCH,
        "reason": _MATCH,
        "evidence": _MATCH,
        "status": _NO_INPUT,
        "first_queued_at": _NO_INPUT,
        "last_run_id": _NO_INPUT,
        "closed_at": _NO_INPUT,
    },
    "calibration": {
        "config_hash": _NO_INPUT,
        "calibrated_at": _NO_INPUT,
        "run_id": _NO_INPUT,
        "parameters": _fields("AGGREGATION", *_EVIDENCE),
    },
    "sku_xref": {
        "source_system": _fields("IDENTITY", (CODES, "source_system")),
        "product_code": _fields("IDENTITY", (CODES, "product_code")),
        "sku_key": _SKU_KEY,
        "item_no": _fields("IDENTITY", (ITEMS, "item_no")) + _fields("JOIN", *_MATCHED_ON),
        "matched_by": _SKU_MATCH,
        "confidence": _SKU_MATCH,
        "normalised_code": _fields("TRANSFORMATION", (CODES, "product_code"), (CODES, "barcode")),
        "updated_at": _NO_INPUT,
        "run_id": _NO_INPUT,
    },
    "sku_mapping_log": {
        "changed_at": _NO_INPUT,
        "run_id": _NO_INPUT,
        "source_system": _fields("IDENTITY", (CODES, "source_system")),
        "product_code": _fields("IDENTITY", (CODES, "product_code")),
        "old_sku_key": _SKU_KEY,
        "new_sku_key": _SKU_KEY,
        "matched_by": _SKU_MATCH,
        "confidence": _SKU_MATCH,
    },
    "unmapped_product_codes": {
        "source_system": _fields("IDENTITY", (CODES, "source_system")),
        "product_code": _fields("IDENTITY", (CODES, "product_code")),
        "sku_key": _fields("TRANSFORMATION", *_CODE),
        "normalised_code": _fields("TRANSFORMATION", (CODES, "product_code"), (CODES, "barcode")),
        "sales_value": _fields("IDENTITY", (CODES, "sales_value")),
        "sales_lines": _fields("IDENTITY", (CODES, "sales_lines")),
        "first_seen_at": _fields("IDENTITY", (CODES, "first_seen_at")),
        "last_seen_at": _fields("IDENTITY", (CODES, "last_seen_at")),
        "run_id": _NO_INPUT,
    },
}
"""identity table -> column -> the input fields it is made from (tables the step only
stamps, `runs` and `overrides`, have none)."""


def identity_tables() -> list[str]:
    """Every table of schema `identity` (as the identity step creates them)."""
    from ronghe.identity.schema import TABLES

    return sorted(TABLES)


def _column_lineage(settings: Settings, table: str) -> Any:
    from openlineage.client.facet_v2 import column_lineage_dataset as lineage

    namespace = naming.warehouse_namespace(settings)
    return lineage.ColumnLineageDatasetFacet(
        fields={
            column: lineage.Fields(
                inputFields=[
                    lineage.InputField(
                        namespace=namespace,
                        name=dataset,
                        field=field,
                        transformations=[
                            lineage.Transformation(
                                type="INDIRECT" if how in _INDIRECT else "DIRECT", subtype=how
                            )
                        ],
                    )
                    for dataset, field, how in fields
                ]
            )
            for column, fields in COLUMN_LINEAGE[table].items()
        },
        producer=naming.PRODUCER,
    )


def _row_counts(settings: Settings) -> dict[str, int]:
    """Rows of each identity table as the step left it."""
    import sqlalchemy as sa

    from ronghe.quality.connection import open_engine

    with open_engine(settings) as engine, engine.connect() as connection:
        return {
            table: int(
                connection.execute(sa.text(f"select count(*) from {SCHEMA}.{table}")).scalar()
            )
            for table in identity_tables()
        }


def _outputs(settings: Settings, rows: dict[str, int] | None) -> list[Any]:
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import output_statistics_output_dataset as statistics

    outputs = []
    for table in identity_tables():
        dataset = naming.warehouse_dataset(settings, SCHEMA, table)
        facets = (
            {"columnLineage": _column_lineage(settings, table)}
            if rows is not None and table in COLUMN_LINEAGE
            else {}
        )
        output_facets = (
            {
                "outputStatistics": statistics.OutputStatisticsOutputDatasetFacet(
                    rowCount=rows[table], producer=naming.PRODUCER
                )
            }
            if rows is not None
            else {}
        )
        outputs.append(
            OutputDataset(
                namespace=dataset.namespace,
                name=dataset.name,
                facets=facets,
                outputFacets=output_facets,
            )
        )
    return outputs


def identity_event(
    settings: Settings,
    state: str,
    run_id: str,
    parent: Any,
    *,
    rows: dict[str, int] | None = None,
    run_facets: dict[str, Any] | None = None,
) -> Any:
    """One event of an identity run; `rows` (after the step) adds statistics and column lineage."""
    from openlineage.client.event_v2 import InputDataset, Run, RunEvent, RunState

    facets = run_context_facets(settings, parent)
    inputs = [
        InputDataset(namespace=dataset.namespace, name=dataset.name)
        for dataset in (naming.warehouse_dataset(settings, *name.split(".")) for name in INPUTS)
    ]
    return RunEvent(
        eventType=RunState[state],
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=run_id, facets={**facets, **(run_facets or {})}),
        job=naming.batch_job(JOB_NAME, "RONGHE", "IDENTITY_RESOLUTION"),
        inputs=inputs,
        outputs=_outputs(settings, rows),
        producer=naming.PRODUCER,
    )


@contextmanager
def identity_lineage(settings: Settings) -> Iterator[None]:
    """Emit START, then COMPLETE (with row counts and column lineage) or FAIL, around the step.

    Outside an Airflow task the events go to the `ronghe` run file `identity.resolve`.
    """
    from openlineage.client.uuid import generate_new_uuid

    task = current_task_run()
    path = (
        events_file(settings.home, task.dag_id, task.run_id)
        if task
        else events_file(settings.home, "ronghe", JOB_NAME)
    )
    parent = task.parent if task else None
    run_id = str(generate_new_uuid())
    emit(settings, path, [identity_event(settings, "START", run_id, parent)])
    try:
        yield
    except Exception as error:
        failure = error_facet(error)
        event = identity_event(
            settings, "FAIL", run_id, parent, run_facets={"errorMessage": failure}
        )
        emit(settings, path, [event])
        raise
    event = identity_event(settings, "COMPLETE", run_id, parent, rows=_row_counts(settings))
    emit(settings, path, [event])
