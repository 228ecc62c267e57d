"""The identity step's lineage: what it read, every identity table it wrote, column by column."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from ronghe.identity.schema import TABLES
from ronghe.identity.step import INPUTS as STEP_INPUTS
from ronghe.lineage.emit import events_file
from ronghe.lineage.graph import build_graph, read_events
from ronghe.lineage.identity_events import (
    COLUMN_LINEAGE,
    INPUTS,
    JOB_NAME,
    OVERRIDES,
    identity_lineage,
)
from ronghe.lineage.validation import validate_file
from ronghe.settings import load_settings


def test_the_declared_inputs_are_what_the_step_reads():
    assert set(INPUTS) == {*STEP_INPUTS.values(), OVERRIDES}


def test_a_failed_step_records_start_and_fail_with_the_error(tmp_path):
    settings = dataclasses.replace(load_settings(), home=tmp_path)
    with pytest.raises(RuntimeError, match="no evidence"), identity_lineage(settings):
        raise RuntimeError("no evidence")
    path = events_file(tmp_path, "ronghe", JOB_NAME)
    events = read_events(path)
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    assert events[0]["run"]["runId"] == events[1]["run"]["runId"]
    assert "RuntimeError: no evidence" in events[1]["run"]["facets"]["errorMessage"]["message"]
    assert {d["name"] for d in events[1]["outputs"]} == {f"identity.{t}" for t in TABLES}
    assert validate_file(path) == []


@pytest.mark.slow
def test_the_step_names_every_identity_table_with_rows_and_column_lineage(lineage_estate):
    settings = lineage_estate.settings
    path = events_file(settings.home, "ronghe", JOB_NAME)
    assert validate_file(path) == []
    (complete,) = [e for e in read_events(path) if e["eventType"] == "COMPLETE"]
    assert sorted(d["name"] for d in complete["inputs"]) == sorted(INPUTS)
    outputs = {d["name"]: d for d in complete["outputs"]}
    assert sorted(outputs) == sorted(f"identity.{table}" for table in TABLES)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        catalog = {
            (f"{schema}.{table}", column)
            for schema, table, column in con.execute(
                "select table_schema, table_name, column_name from information_schema.columns"
            ).fetchall()
        }
        for name, output in outputs.items():
            (rows,) = con.execute(f"select count(*) from {name}").fetchone()
            assert output["outputFacets"]["outputStatistics"]["rowCount"] == rows, name
    undeclared, unknown = [], []
    for table in COLUMN_LINEAGE:
        written = {column for name, column in catalog if name == f"identity.{table}"}
        fields = outputs[f"identity.{table}"]["facets"]["columnLineage"]["fields"]
        undeclared += [f"{table}.{column}" for column in sorted(written - set(fields))]
        unknown += [
            f"{table}.{column} <- {source['name']}.{source['field']}"
            for column, lineage in fields.items()
            for source in lineage["inputFields"]
            if (source["name"], source["field"]) not in catalog
        ]
    assert undeclared == []
    assert unknown == []


@pytest.mark.slow
def test_member_and_sku_keys_resolve_to_raw_source_fields(lineage_estate):
    graph = build_graph(lineage_estate.settings.home)
    assert graph.producers["identity.member_xref"] == JOB_NAME
    record_id = graph.source_fields(("identity.member_xref", "source_record_id"), stop_at="raw")
    assert {("raw.pos_members", "member_card_no"), ("raw.ecom_customers", "buyer_id")} <= (
        record_id
    )
    member_key = graph.source_fields(("identity.member_xref", "member_key"), stop_at="raw")
    assert ("raw.pos_members", "phone") in member_key
    sku_key = graph.source_fields(("identity.sku_xref", "sku_key"), stop_at="raw")
    assert ("raw.erp_item", "item_no") in sku_key
