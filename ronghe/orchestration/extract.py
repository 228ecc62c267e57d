"""The extract DAGs: one per source system, drawn from its declarative file.

Each `extractors/sources/<source>.yml` names the source's streams and the raw
table each lands in, and its `schedule` (a cron expression in UTC). For each
file there is one DAG, `ronghe_extract_<source>`:

    extract  ->  new_data_landed  ->  announce

- `extract` calls the source's extractor, `extractors.<source>.extract_<source>`,
  with the task's settings, in pool `warehouse_writer` (it writes the warehouse).
  It returns the batch's counts, no data, and records the batch's OpenLineage
  events (`ronghe.lineage.extract_events`).
- `new_data_landed` short-circuits the run when the batch landed nothing: a
  run that finds nothing new ends there, and nothing downstream is triggered.
- `announce` carries the raw tables as outlets: its success publishes one
  Airflow asset event per raw table (`raw.pos_lines` ...), with the batch id
  and row counts as the event's extra. `ronghe_transform` is scheduled on them.

Extraction is incremental by state, not by date: each run lands everything
the source holds that was not landed before (watermarks, file registry),
whatever its data interval, and a batch that would change nothing is rolled
back. Re-running any run, or backfilling a range of intervals, therefore
never lands a row twice, and the data interval serves as the run's label.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ronghe.orchestration.assets import dataset_name, split_dataset_name, warehouse_asset
from ronghe.orchestration.failures import task_defaults
from ronghe.orchestration.pools import WAREHOUSE_WRITER

# Extract DAGs start counting intervals here; with catchup off, only the
# latest interval runs when a DAG is first switched on.
START_DATE = datetime(2025, 1, 1, tzinfo=UTC)
EXTRACT_TIMEOUT = timedelta(hours=1)
RAW_SCHEMA = "raw"


class ScheduleMissingError(ValueError):
    """A source file has no `schedule`, so its extract DAG cannot be drawn."""


@dataclass(frozen=True)
class ExtractSpec:
    """What the extract DAG of one source needs to know."""

    source: str
    description: str
    schedule: str
    """Cron expression, UTC."""
    raw_tables: tuple[str, ...]
    """Dataset names (`raw.pos_lines`) of the tables the extractor lands."""
    stream_tables: Mapping[str, str]
    """Stream name -> dataset name of its raw table."""

    @property
    def dag_id(self) -> str:
        return f"ronghe_extract_{self.source}"

    @property
    def entry_point(self) -> str:
        return f"extractors.{self.source}:extract_{self.source}"


def extract_specs() -> list[ExtractSpec]:
    """One spec per source file in `extractors/sources/`, in name order."""
    from extractors.contracts import SOURCES_DIR, all_sources

    specs = []
    for contract in all_sources():
        schedule = contract.options.get("schedule")
        if not schedule:
            raise ScheduleMissingError(
                f"{SOURCES_DIR / contract.name}.yml has no `schedule`: add a cron expression "
                "(UTC) saying how often the source is extracted"
            )
        stream_tables = {
            name: dataset_name(RAW_SCHEMA, stream.raw_table)
            for name, stream in contract.streams.items()
        }
        # Tables about deliveries rather than source rows (`raw.pos_drops`) are
        # landed by the same batch as the streams.
        delivery_tables = [
            dataset_name(RAW_SCHEMA, table) for table in contract.options.get("delivery_tables", ())
        ]
        specs.append(
            ExtractSpec(
                source=contract.name,
                description=contract.description,
                schedule=str(schedule),
                raw_tables=tuple(sorted({*stream_tables.values(), *delivery_tables})),
                stream_tables=stream_tables,
            )
        )
    return specs


def landing_summary(spec: ExtractSpec, result: Mapping[str, Any]) -> dict[str, Any]:
    """The small XCom value of an extract run: the batch and what it changed, per table."""
    loaded_by_table = {
        spec.stream_tables[stream]: int(totals.get("loaded", 0))
        for stream, totals in (result.get("streams") or {}).items()
    }
    changed = bool(result.get("committed")) and (
        int(result.get("loaded", 0)) > 0 or int(result.get("superseded", 0)) > 0
    )
    return {
        "source": spec.source,
        "batch_id": result.get("batch_id"),
        "new_data": changed,
        "counts": {
            key: int(result.get(key, 0))
            for key in ("files", "read", "loaded", "quarantined", "duplicate", "superseded")
        },
        "loaded_by_table": loaded_by_table,
    }


def run_extractor(spec: ExtractSpec) -> dict[str, Any]:
    """Run the source's extractor with the task's settings; return `landing_summary`."""
    from ronghe.lineage.extract_events import extract_lineage
    from ronghe.orchestration.connections import task_settings

    module_name, function_name = spec.entry_point.split(":")
    extract = getattr(importlib.import_module(module_name), function_name)
    settings = task_settings()
    with extract_lineage(settings, spec.source, spec.raw_tables, spec.stream_tables) as lineage:
        lineage["result"] = extract(settings)
    return landing_summary(spec, lineage["result"])


def _doc(spec: ExtractSpec) -> str:
    tables = "\n".join(f"- `{table}`" for table in spec.raw_tables)
    return (
        f"# Extract {spec.source}\n\n{spec.description}\n\n"
        f"Schedule `{spec.schedule}` (UTC), from `extractors/sources/{spec.source}.yml`. "
        f"Entry point `{spec.entry_point}`.\n\n"
        f"Publishes these assets when a run lands new rows:\n\n{tables}\n\n"
        f"{__doc__}"
    )


def build_extract_dag(spec: ExtractSpec) -> Any:
    """The DAG `ronghe_extract_<source>` (see the module docstring)."""
    from airflow.sdk import CronDataIntervalTimetable, dag, task

    assets = {table: warehouse_asset(*split_dataset_name(table)) for table in spec.raw_tables}

    @dag(
        dag_id=spec.dag_id,
        schedule=CronDataIntervalTimetable(spec.schedule, timezone="UTC"),
        start_date=START_DATE,
        # Each run lands everything new, so one run catches up a pause by itself.
        catchup=False,
        max_active_runs=1,
        tags=["ronghe", "extract", spec.source],
        doc_md=_doc(spec),
        default_args=task_defaults(tables=spec.raw_tables),
    )
    def extract_dag() -> None:
        @task(pool=WAREHOUSE_WRITER.name, execution_timeout=EXTRACT_TIMEOUT)
        def extract() -> dict[str, Any]:
            return run_extractor(spec)

        @task.short_circuit
        def new_data_landed(summary: dict[str, Any]) -> bool:
            return bool(summary["new_data"])

        @task(outlets=list(assets.values()))
        def announce(summary: dict[str, Any], **context: Any) -> None:
            events = context["outlet_events"]
            for table, asset in assets.items():
                events[asset].extra = {
                    "source": summary["source"],
                    "batch_id": summary["batch_id"],
                    "rows_loaded": summary["loaded_by_table"].get(table, 0),
                }

        summary = extract()
        new_data_landed(summary) >> announce(summary)

    return extract_dag()
