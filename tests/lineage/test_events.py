"""The recorded OpenLineage events: valid, and naming every extractor and model."""

from __future__ import annotations

import json

import duckdb
import pytest

from ronghe.lineage.emit import events_files
from ronghe.lineage.extract_events import bookkeeping_tables
from ronghe.lineage.graph import build_graph, read_events
from ronghe.lineage.naming import warehouse_namespace
from ronghe.lineage.report import NOT_DATA_LINEAGE, mart_column_lineage, tables_without_lineage
from ronghe.lineage.validation import validate_events_dir
from ronghe.orchestration.extract import extract_specs

# Over a generated estate landed and built with dbt (the session fixture).
pytestmark = pytest.mark.slow


def _events(estate) -> list[dict]:
    return [event for path in events_files(estate.settings.home) for event in read_events(path)]


def test_every_event_is_valid_against_the_openlineage_schema(lineage_estate):
    assert _events(lineage_estate)
    assert validate_events_dir(lineage_estate.settings.home) == []


def test_every_extractor_has_a_completed_batch_reading_its_source_and_writing_raw(
    lineage_estate,
):
    settings = lineage_estate.settings
    completes = {
        event["job"]["name"]: event
        for event in _events(lineage_estate)
        if event["eventType"] == "COMPLETE" and event["job"]["name"].startswith("extract.")
    }
    for spec in extract_specs():
        event = completes[f"extract.{spec.source}"]
        outputs = {d["name"]: d for d in event["outputs"]}
        assert sorted(outputs) == sorted((*spec.raw_tables, *bookkeeping_tables()))
        assert {d["namespace"] for d in event["outputs"]} == {warehouse_namespace(settings)}
        assert event["inputs"], f"extract.{spec.source} names no source data"
        batch = event["run"]["facets"]["externalQuery"]["externalQueryId"]
        for table, output in outputs.items():
            statistics = output.get("outputFacets", {}).get("outputStatistics")
            if statistics is None:  # a table about deliveries, not a stream
                continue
            with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
                (landed,) = con.execute(
                    f"select count(*) from {table} where _batch_id = ?", [batch]
                ).fetchone()
            assert statistics["rowCount"] == landed, table


def test_file_sources_are_named_by_the_pattern_of_their_files(lineage_estate):
    sources_dir = lineage_estate.settings.sources_dir
    pos = next(
        e
        for e in _events(lineage_estate)
        if e["job"]["name"] == "extract.pos" and e["eventType"] == "COMPLETE"
    )
    assert {(d["namespace"], d["name"]) for d in pos["inputs"]} == {
        ("file", f"{sources_dir}/pos/*/*/{name}.csv")
        for name in ("lines", "members", "transactions")
    }


def test_every_built_model_has_an_event_with_column_lineage_for_each_column(lineage_estate):
    built = {
        r["unique_id"].split(".")[-1]
        for target in lineage_estate.targets
        for r in json.loads((target / "run_results.json").read_text())["results"]
        if r["unique_id"].startswith("model.") and r["status"] == "success"
    }
    assert "mart_sales_daily" in built
    events = {
        e["job"]["name"]: e for e in _events(lineage_estate) if e["job"]["name"].startswith("dbt.")
    }
    missing = sorted(model for model in built if f"dbt.model.{model}" not in events)
    assert missing == []
    settings = lineage_estate.settings
    without_lineage = []
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for model in sorted(built):
            output = events[f"dbt.model.{model}"]["outputs"][0]
            schema, table = output["name"].split(".")
            columns = {
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [schema, table],
                ).fetchall()
            }
            fields = output["facets"].get("columnLineage", {}).get("fields", {})
            without_lineage += [f"{model}.{c}" for c in sorted(columns - set(fields))]
    assert without_lineage == []


def test_mart_figures_resolve_through_select_star_to_raw_source_fields(lineage_estate):
    lineage = mart_column_lineage(build_graph(lineage_estate.settings.home))
    sales = lineage["marts_candidate.mart_sales_daily"]
    # Net sales come from till lines and online order items, through five models of
    # `select * from {{ ref(...) }}` CTEs.
    assert {"raw.pos_lines.qty", "raw.pos_lines.unit_price"} <= set(sales["net_sales"])
    assert {"raw.ecom_order_items.qty", "raw.ecom_order_items.unit_price"} <= set(
        sales["net_sales"]
    )
    assert "raw.pos_transactions.txn_time" in sales["sales_date"]
    assert all(field.startswith(("raw.", "identity.")) for f in sales.values() for field in f)


def test_every_table_of_every_warehouse_schema_appears_in_lineage(lineage_estate):
    settings = lineage_estate.settings
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        schemas = {
            row[0]
            for row in con.execute(
                "select distinct table_schema from information_schema.tables"
            ).fetchall()
        }
    # The estate has every layer the check must cover (marts are published elsewhere).
    assert {"raw", "ops", "staging", "intermediate", "identity", "unified"} <= schemas
    assert tables_without_lineage(build_graph(settings.home), settings) == []
    # Only named bookkeeping tables may be left out, each with its reason.
    assert all(name.startswith("ops.") and reason for name, reason in NOT_DATA_LINEAGE.items())
