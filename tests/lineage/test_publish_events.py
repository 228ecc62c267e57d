"""A publish's lineage: the published marts resolve to the same source fields as the candidates."""

from __future__ import annotations

import duckdb
import pytest

from ronghe.lineage.emit import events_file
from ronghe.lineage.graph import build_graph
from ronghe.lineage.publish_events import JOB_NAME, emit_publish_lineage
from ronghe.lineage.validation import validate_file

# Over a generated estate landed and built with dbt (the session fixture).
pytestmark = pytest.mark.slow


def test_published_marts_carry_the_candidates_column_lineage(lineage_estate):
    settings = lineage_estate.settings
    with duckdb.connect(str(settings.warehouse_path)) as con:
        # What the publish step's transaction leaves behind, without its audit.
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.mart_sales_daily as "
            "select * from marts_candidate.mart_sales_daily"
        )
        (rows,) = con.execute("select count(*) from marts.mart_sales_daily").fetchone()
    emit_publish_lineage(settings, {"tables": {"mart_sales_daily": rows}})

    assert validate_file(events_file(settings.home, "ronghe", JOB_NAME)) == []
    graph = build_graph(settings.home)
    assert graph.producers["marts.mart_sales_daily"] == JOB_NAME
    event = graph.jobs[JOB_NAME]
    outputs = {output["name"]: output for output in event["outputs"]}
    assert sorted(outputs) == ["marts.mart_sales_daily", "ops.publish_log"]
    statistics = outputs["marts.mart_sales_daily"]["outputFacets"]["outputStatistics"]
    assert statistics["rowCount"] == rows
    published = graph.source_fields(("marts.mart_sales_daily", "net_sales"), stop_at="raw")
    candidate = graph.source_fields(("marts_candidate.mart_sales_daily", "net_sales"), "raw")
    assert published == candidate
    assert ("raw.pos_lines", "qty") in published
