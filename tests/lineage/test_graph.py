"""The lineage graph read back from event files: later runs win, empty batches change nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ronghe.lineage.emit import events_file
from ronghe.lineage.graph import build_graph

WAREHOUSE = "duckdb:///w.duckdb"


def _dataset(name: str, columns: dict[str, list[tuple[str, str]]] | None = None) -> dict:
    facets = {}
    if columns is not None:
        facets["columnLineage"] = {
            "fields": {
                column: {"inputFields": [{"namespace": "x", "name": n, "field": f} for n, f in src]}
                for column, src in columns.items()
            }
        }
    return {"namespace": WAREHOUSE, "name": name, "facets": facets}


def _complete(job: str, time: str, inputs: list[str], outputs: list[dict]) -> dict:
    return {
        "eventType": "COMPLETE",
        "eventTime": time,
        "job": {"namespace": "ronghe", "name": job},
        "run": {"runId": "r", "facets": {}},
        "inputs": [{"namespace": "x", "name": name} for name in inputs],
        "outputs": outputs,
    }


def _write(home: Path, dag: str, run: str, events: list[dict], mtime: int) -> None:
    path = events_file(home, dag, run)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    os.utime(path, (mtime, mtime))


def test_columns_resolve_across_runs_and_an_empty_batch_keeps_the_sources(tmp_path):
    lines = "/data/pos/*/*/lines.csv"
    _write(
        tmp_path,
        "ronghe_extract_pos",
        "run1",
        [
            _complete(
                "extract.pos",
                "2025-03-01T01:00:00Z",
                [lines],
                [
                    _dataset(
                        "raw.pos_lines", {"qty": [(lines, "qty")], "txn_id": [(lines, "txn_id")]}
                    )
                ],
            )
        ],
        mtime=1_000,
    )
    _write(
        tmp_path,
        "ronghe_transform",
        "run1",
        [
            _complete(
                "dbt.model.stg_pos__lines",
                "2025-03-01T02:00:00Z",
                ["raw.pos_lines"],
                [
                    _dataset(
                        "staging.stg_pos__lines", {"qty": [("raw.pos_lines", "qty")], "store": []}
                    )
                ],
            )
        ],
        mtime=2_000,
    )
    # The next extract found nothing new: no inputs, no column lineage.
    _write(
        tmp_path,
        "ronghe_extract_pos",
        "run2",
        [_complete("extract.pos", "2025-03-02T01:00:00Z", [], [_dataset("raw.pos_lines")])],
        mtime=3_000,
    )
    graph = build_graph(tmp_path)
    assert graph.inputs_of("raw.pos_lines") == [lines]
    assert graph.source_fields(("staging.stg_pos__lines", "qty")) == {(lines, "qty")}
    assert graph.source_fields(("staging.stg_pos__lines", "qty"), stop_at="raw") == {
        ("raw.pos_lines", "qty")
    }
    # A constant has no source field.
    assert graph.source_fields(("staging.stg_pos__lines", "store")) == set()
    assert [run.dag_id for run in graph.runs] == [
        "ronghe_extract_pos",
        "ronghe_transform",
        "ronghe_extract_pos",
    ]

    # A later build of the model replaces its column lineage whole.
    _write(
        tmp_path,
        "ronghe_transform",
        "run2",
        [
            _complete(
                "dbt.model.stg_pos__lines",
                "2025-03-02T02:00:00Z",
                ["raw.pos_lines"],
                [_dataset("staging.stg_pos__lines", {"txn": [("raw.pos_lines", "txn_id")]})],
            )
        ],
        mtime=4_000,
    )
    graph = build_graph(tmp_path)
    assert graph.columns_of("staging.stg_pos__lines") == ["txn"]
    assert graph.source_fields(("staging.stg_pos__lines", "txn")) == {(lines, "txn_id")}
