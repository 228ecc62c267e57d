"""The offline OpenLineage validator: it passes what the spec allows and names what it does not."""

from __future__ import annotations

import copy
import json

import pytest

from ronghe.lineage.validation import event_problems, validate_file

VALID = {
    "eventType": "COMPLETE",
    "eventTime": "2025-03-01T02:00:00+00:00",
    "producer": "https://github.com/ronghe-data/ronghe",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {"runId": "01932f2e-1d5c-7c1e-9b1a-2a7f3c4d5e6f", "facets": {}},
    "job": {"namespace": "ronghe", "name": "dbt.model.stg_pos__lines", "facets": {}},
    "inputs": [{"namespace": "duckdb:///w.duckdb", "name": "raw.pos_lines", "facets": {}}],
    "outputs": [
        {
            "namespace": "duckdb:///w.duckdb",
            "name": "staging.stg_pos__lines",
            "facets": {
                "columnLineage": {
                    "_producer": "https://github.com/ronghe-data/ronghe",
                    "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/"
                    "ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
                    "fields": {
                        "qty": {
                            "inputFields": [
                                {
                                    "namespace": "duckdb:///w.duckdb",
                                    "name": "raw.pos_lines",
                                    "field": "qty",
                                }
                            ]
                        }
                    },
                }
            },
        }
    ],
}


def _broken(change) -> dict:
    event = copy.deepcopy(VALID)
    change(event)
    return event


def test_a_valid_event_has_no_problems():
    assert event_problems(VALID) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda e: e["run"].pop("runId"), "'runId' is a required property"),
        (lambda e: e.update(eventType="FINISHED"), "'FINISHED' is not one of"),
        (
            lambda e: e["outputs"][0]["facets"]["columnLineage"]["fields"]["qty"]["inputFields"][
                0
            ].pop("field"),
            "facet columnLineage: 'field' is a required property",
        ),
        (
            lambda e: e["outputs"][0]["facets"]["columnLineage"].update(
                _schemaURL="https://openlineage.io/spec/facets/9-9-9/ColumnLineageDatasetFacet.json"
            ),
            "is not a vendored schema",
        ),
        (
            lambda e: e["job"]["facets"].update(custom={"value": 1}),
            "facet custom: no _producer or _schemaURL",
        ),
    ],
)
def test_each_breach_of_the_spec_is_named(change, expected):
    problems = event_problems(_broken(change))
    assert any(expected in problem for problem in problems), problems


def test_a_file_reports_the_line_of_each_bad_event(tmp_path):
    path = tmp_path / "run.jsonl"
    bad = _broken(lambda e: e["run"].pop("runId"))
    path.write_text("\n".join([json.dumps(VALID), json.dumps(bad), "{not json"]) + "\n")
    problems = validate_file(path)
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:2", f"{path}:3"]
