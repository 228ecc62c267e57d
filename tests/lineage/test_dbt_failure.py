"""A dbt build that fails still records its models: FAIL for the broken one, ABORT for the rest."""

from __future__ import annotations

import dataclasses
import json
import shutil

import duckdb
import pytest

from ronghe.lineage.dbt_events import build_events, emit_build_lineage
from ronghe.lineage.emit import events_file, events_files
from ronghe.lineage.graph import build_graph, read_events
from ronghe.lineage.validation import validate_events_dir
from ronghe.transform.dbt_invocation import (
    DBT_PROJECT_DIR,
    DbtInvocationError,
    release_duckdb_file,
)
from tests.dbt.pipeline import build
from tests.lineage.conftest import dbt_build_events

BROKEN = "stg_erp__store_versions"


def test_a_build_that_ran_no_node_has_no_model_to_record(tmp_path):
    # dbt stopped before running anything (the project did not parse): no run results.
    assert build_events(DBT_PROJECT_DIR, "duckdb", tmp_path / "target") == []


# Over a copy of the generated estate's warehouse (the session fixture).
@pytest.mark.slow
def test_a_failed_build_records_the_failed_model_and_what_dbt_skipped(lineage_estate, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(lineage_estate.settings.warehouse_path, warehouse)
    settings = dataclasses.replace(
        lineage_estate.settings, warehouse=str(warehouse), home=tmp_path / "home"
    )
    # The model is broken on purpose: the raw table it reads is gone.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table raw.erp_store rename to erp_store_withheld")
    target = tmp_path / "target"
    with pytest.raises(DbtInvocationError, match=BROKEN):
        build(settings, target, "--select", f"{BROKEN}+", "--resource-type", "model")
    release_duckdb_file()

    emit_build_lineage(settings, dbt_build_events(settings, target))

    results = json.loads((target / "run_results.json").read_text())["results"]
    skipped = sorted(r["unique_id"].split(".")[-1] for r in results if r["status"] == "skipped")
    assert skipped, "nothing downstream of the broken model was skipped"
    assert validate_events_dir(settings.home) == []
    (path,) = events_files(settings.home)
    assert path == events_file(settings.home, "ronghe", "dbt")
    events = {e["job"]["name"]: e for e in read_events(path)}
    failed = events[f"dbt.model.{BROKEN}"]
    assert failed["eventType"] == "FAIL"
    assert "erp_store" in failed["run"]["facets"]["errorMessage"]["message"]
    aborted = sorted(
        name.removeprefix("dbt.model.")
        for name, event in events.items()
        if event["eventType"] == "ABORT"
    )
    assert aborted == skipped
    for model in skipped:
        event = events[f"dbt.model.{model}"]
        assert f"model.ronghe.{BROKEN}" in event["run"]["facets"]["errorMessage"]["message"]
        (output,) = event["outputs"]
        assert output["name"].endswith(f".{model}")
    (run,) = build_graph(settings.home).runs
    assert run.failed_jobs == [f"dbt.model.{BROKEN}"]
