"""The lineage graph as the recorded events tell it: jobs, datasets, column lineage.

Built only from the OpenLineage events under RONGHE_HOME (what ran), never
from the code: the latest COMPLETE event of each job says what it read and
wrote, and its outputs' column-lineage facets say which input columns each
output column is computed from. Following those facets down, a mart column
resolves to the fields of the tables nothing in the graph computes: the raw
tables the extractors land (and the identity step's tables).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ronghe.lineage.emit import events_files

QUALITY_PREFIX = "quality."

Column = tuple[str, str]
"""(dataset name, column): `("raw.pos_lines", "qty")`."""


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@dataclass
class RunFile:
    """One DAG run's events file, summarised."""

    dag_id: str
    run_id: str
    path: Path
    events: int
    jobs: list[str]
    failed_jobs: list[str]
    first_event: str
    last_event: str
    code_versions: list[str]
    config_hashes: list[str]


@dataclass
class LineageGraph:
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """job name -> its latest COMPLETE event."""
    producers: dict[str, str] = field(default_factory=dict)
    """dataset name -> the job that last wrote it."""
    dataset_inputs: dict[str, list[str]] = field(default_factory=dict)
    """dataset name -> the datasets it was computed from."""
    column_inputs: dict[Column, set[Column]] = field(default_factory=lambda: defaultdict(set))
    runs: list[RunFile] = field(default_factory=list)

    @property
    def datasets(self) -> set[str]:
        """Every dataset a job wrote or computed something from (checks only read)."""
        names = set(self.producers)
        for name, event in self.jobs.items():
            if not name.startswith(QUALITY_PREFIX):
                names.update(dataset["name"] for dataset in event.get("inputs", []))
        return names

    def checkpoints(self) -> list[dict[str, Any]]:
        """The latest verdict of each quality suite: its dataset and its rules."""
        verdicts = []
        for name, event in sorted(self.jobs.items()):
            if not name.startswith(QUALITY_PREFIX):
                continue
            for dataset in event.get("inputs", []):
                facet = dataset.get("inputFacets", {}).get("dataQualityAssertions", {})
                assertions = facet.get("assertions", [])
                verdicts.append(
                    {
                        "suite": name.removeprefix(QUALITY_PREFIX),
                        "dataset": dataset["name"],
                        "checked_at": event["eventTime"],
                        "rules": len(assertions),
                        "failed": [
                            f"{a['assertion']} ({a.get('severity', '?')})"
                            for a in assertions
                            if not a["success"]
                        ],
                    }
                )
        return verdicts

    def inputs_of(self, dataset: str) -> list[str]:
        return self.dataset_inputs.get(dataset, [])

    def source_fields(self, column: Column, stop_at: str | None = None) -> set[Column]:
        """The fields of uncomputed datasets a column is computed from.

        With `stop_at` (a schema, `raw`), the walk ends at that schema's fields.
        """
        computed = self.computed_datasets
        found: set[Column] = set()
        seen: set[Column] = set()
        pending = [column]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            upstream = self.column_inputs.get(current)
            if stop_at and current != column and current[0].startswith(f"{stop_at}."):
                found.add(current)
            elif upstream:
                pending.extend(upstream)
            elif current != column and current[0] not in computed:
                found.add(current)
        return found

    @property
    def computed_datasets(self) -> set[str]:
        """Datasets whose columns the graph says how to compute."""
        return {dataset for dataset, _ in self.column_inputs}

    def columns_of(self, dataset: str) -> list[str]:
        return sorted(column for name, column in self.column_inputs if name == dataset)


def build_graph(home: Path) -> LineageGraph:
    """The graph of every event recorded under a RONGHE_HOME (later runs win)."""
    graph = LineageGraph()
    for path in events_files(home):
        events = read_events(path)
        if not events:
            continue
        graph.runs.append(
            RunFile(
                dag_id=path.parent.name,
                run_id=path.stem,
                path=path,
                events=len(events),
                jobs=sorted({e["job"]["name"] for e in events}),
                failed_jobs=sorted({e["job"]["name"] for e in events if e["eventType"] == "FAIL"}),
                first_event=min(e["eventTime"] for e in events),
                last_event=max(e["eventTime"] for e in events),
                code_versions=_tag_values(events, "code_version"),
                config_hashes=_tag_values(events, "config_hash"),
            )
        )
        for event in sorted(events, key=lambda e: e["eventTime"]):
            if event["eventType"] == "COMPLETE":
                _add_complete(graph, event)
    return graph


def _tag_values(events: list[dict[str, Any]], key: str) -> list[str]:
    """The values a run tag took across the events of a run (more than one: code changed)."""
    return sorted(
        {
            tag["value"]
            for event in events
            for tag in event["run"].get("facets", {}).get("tags", {}).get("tags", [])
            if tag.get("key") == key
        }
    )


def _add_complete(graph: LineageGraph, event: dict[str, Any]) -> None:
    job = event["job"]["name"]
    previous = graph.jobs.get(job)
    if previous is not None:
        for dataset in previous.get("outputs", []):
            graph.producers.pop(dataset["name"], None)
    graph.jobs[job] = event
    job_inputs = sorted({d["name"] for d in event.get("inputs", [])})
    for dataset in event.get("outputs", []):
        graph.producers[dataset["name"]] = job
        # A batch that read nothing leaves what the table is made from as it was.
        if job_inputs or dataset["name"] not in graph.dataset_inputs:
            graph.dataset_inputs[dataset["name"]] = job_inputs
        facet = dataset.get("facets", {}).get("columnLineage")
        if not facet:
            continue
        if not job.startswith("dbt."):
            # One extract batch (or publish) writes many tables from many inputs;
            # each table's column lineage says which inputs it holds. A dbt model
            # keeps its refs, some of which (filters) give no column.
            graph.dataset_inputs[dataset["name"]] = sorted(
                {s["name"] for f in facet.get("fields", {}).values() for s in f["inputFields"]}
            )
        # A later build of the dataset replaces its columns' lineage whole.
        for stale in [key for key in graph.column_inputs if key[0] == dataset["name"]]:
            del graph.column_inputs[stale]
        for column, lineage in facet.get("fields", {}).items():
            key = (dataset["name"], column)
            graph.column_inputs[key] = {
                (source["name"], source["field"]) for source in lineage.get("inputFields", [])
            }
