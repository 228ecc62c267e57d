"""The DAG folder: it imports, it matches the reviewed graph, and it keeps the pipeline's rules."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import timedelta

import pytest

from ronghe.orchestration.extract import extract_specs
from ronghe.orchestration.failures import FailureReport, RongheRetryPolicy
from ronghe.orchestration.pools import WAREHOUSE_WRITER
from ronghe.orchestration.snapshot import SNAPSHOT_PATH, graph_snapshot, render

pytestmark = pytest.mark.airflow

EXTRACT_DAGS = {
    "ronghe_extract_erp": "0 19 * * *",
    "ronghe_extract_pos": "5 * * * *",
    "ronghe_extract_wms": "10 * * * *",
    "ronghe_extract_ecommerce": "*/15 * * * *",
}
# Every task that opens the warehouse; DuckDB has one writer.
WAREHOUSE_TASKS = {
    **{dag_id: {"extract"} for dag_id in EXTRACT_DAGS},
    "ronghe_transform": {
        "check_inputs",
        "dbt_staging.dbt_producer_watcher",
        "quality_landed",
        "resolve_identity",
        "dbt_unified.dbt_producer_watcher",
        "publish_marts",
    },
}


def test_every_dag_file_imports(dag_bag) -> None:
    assert dag_bag.import_errors == {}
    assert set(dag_bag.dag_ids) == {*EXTRACT_DAGS, "ronghe_transform"}


def test_the_graph_matches_the_reviewed_snapshot(dag_bag) -> None:
    current = graph_snapshot(dag_bag.dags.values())
    reviewed = json.loads(SNAPSHOT_PATH.read_text(encoding="utf-8"))
    assert render(current) == render(reviewed), (
        "The pipeline graph changed. If that is intended, redraw the snapshot with "
        "`.venv/bin/python -m ronghe.orchestration.snapshot` and review the diff of "
        f"{SNAPSHOT_PATH.name}."
    )


def test_extract_dags_run_on_the_schedule_of_their_source_file(dag_bag) -> None:
    for dag_id, cron in EXTRACT_DAGS.items():
        dag = dag_bag.dags[dag_id]
        assert dag.timetable.expression == cron
        assert str(dag.timetable.timezone) == "UTC"
        assert dag.catchup is False
        assert dag.max_active_runs == 1


def test_only_the_announce_task_publishes_and_only_after_new_data(dag_bag) -> None:
    for dag_id in EXTRACT_DAGS:
        dag = dag_bag.dags[dag_id]
        publishing = {task.task_id for task in dag.tasks if task.outlets}
        assert publishing == {"announce"}
        assert dag.get_task("announce").upstream_task_ids >= {"new_data_landed"}
        assert type(dag.get_task("new_data_landed")).__name__ == "_ShortCircuitDecoratedOperator"


def test_the_transform_runs_on_any_raw_table_and_those_are_the_dbt_sources(
    dag_bag, manifest
) -> None:
    announced = {
        outlet.name
        for dag_id in EXTRACT_DAGS
        for outlet in dag_bag.dags[dag_id].get_task("announce").outlets
    }
    raw_sources = {
        f"{source['schema']}.{source['name']}"
        for source in manifest["sources"].values()
        if source["schema"] == "raw"
    }
    # One name per dataset: what the extract DAGs announce is what dbt reads.
    assert announced == raw_sources
    transform = dag_bag.dags["ronghe_transform"]
    condition = transform.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"
    assert {asset.name for asset in condition.objects} == announced
    assert transform.max_active_runs == 1


def test_publish_announces_every_mart_dbt_builds(dag_bag, manifest) -> None:
    candidates = {
        f"marts.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts_candidate"
    }
    outlets = dag_bag.dags["ronghe_transform"].get_task("publish_marts").outlets
    assert candidates
    assert {outlet.name for outlet in outlets} == candidates


def test_every_warehouse_task_holds_the_single_writer_slot(dag_bag) -> None:
    assert WAREHOUSE_WRITER.slots == 1
    for dag_id, expected in WAREHOUSE_TASKS.items():
        dag = dag_bag.dags[dag_id]
        in_pool = {task.task_id for task in dag.tasks if task.pool == WAREHOUSE_WRITER.name}
        assert in_pool == expected, dag_id


def test_the_transform_runs_the_identity_step_between_the_two_dbt_builds(dag_bag) -> None:
    dag = dag_bag.dags["ronghe_transform"]
    order = ["quality_landed", "resolve_identity", "dbt_unified.dbt_producer_watcher"]
    assert "dbt_staging.dbt_producer_watcher_done" in dag.get_task(order[0]).upstream_task_ids
    for before, after in itertools.pairwise(order):
        assert dag.get_task(after).upstream_task_ids == {before}
    assert (
        "dbt_unified.dbt_producer_watcher_done" in dag.get_task("publish_marts").upstream_task_ids
    )
    # The run record keeps the decision too: whether the run was forced or a full refresh.
    assert dag.get_task("report").upstream_task_ids == {
        "check_inputs",
        "quality_landed",
        "resolve_identity",
        "publish_marts",
    }


def test_the_transform_starts_by_checking_its_inputs_and_can_skip_everything_else(
    dag_bag,
) -> None:
    dag = dag_bag.dags["ronghe_transform"]
    check = dag.get_task("check_inputs")
    assert type(check).__name__ == "_ShortCircuitDecoratedOperator"
    # Every other task is downstream, whatever its trigger rule: a skip skips the whole run.
    assert check.ignore_downstream_trigger_rules is True
    assert dag.roots == [check]
    assert {task.task_id for task in check.get_flat_relatives(upstream=False)} == {
        task.task_id for task in dag.tasks if task is not check
    }
    # The fingerprint the run started from is what the publish records.
    assert "check_inputs" in dag.get_task("publish_marts").upstream_task_ids
    assert dag.params["force"] is False


def test_dbt_runs_once_per_group_with_one_task_per_model(dag_bag, manifest) -> None:
    dag = dag_bag.dags["ronghe_transform"]
    kinds = {type(task).__name__ for task in dag.tasks if task.task_id.startswith("dbt_")}
    # No operator that starts dbt per model: one build per group, watchers for the models.
    assert kinds == {"DbtProducerWatcherOperator", "DbtRunWatcherOperator", "EmptyOperator"}
    # Only Ronghe's names for warehouse tables: cosmos publishes no assets of its own.
    assert not any(getattr(task, "emit_datasets", False) for task in dag.tasks)
    watchers = {task.model_unique_id for task in dag.tasks if hasattr(task, "model_unique_id")}
    models = {key for key, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    assert watchers == models
    for group in ("dbt_staging", "dbt_unified"):
        build = dag.get_task(f"{group}.dbt_producer_watcher")
        assert build.retries == 0
        assert "--resource-type" in build.dbt_cmd_flags and "test" in build.dbt_cmd_flags


def test_every_task_reports_failures_and_retries_with_backoff(dag_bag) -> None:
    for dag in dag_bag.dags.values():
        assert dag.doc_md and dag.tags and "ronghe" in dag.tags
        assert dag.start_date.utcoffset() == timedelta(0)
        for task in dag.tasks:
            if type(task).__name__ == "EmptyOperator":
                continue
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert any(isinstance(callback, FailureReport) for callback in callbacks), task
            assert task.execution_timeout is not None, task
            if task.task_id.startswith("dbt_"):
                continue  # see test_dbt_runs_once_per_group_with_one_task_per_model
            assert task.retries >= 1 and task.retry_exponential_backoff > 1, task
            assert isinstance(task.retry_policy, RongheRetryPolicy), task


def test_every_source_file_has_its_extract_dag() -> None:
    assert {spec.dag_id for spec in extract_specs()} == set(EXTRACT_DAGS)


@pytest.mark.parametrize("full_refresh", [False, True])
def test_the_full_refresh_parameter_reaches_both_dbt_builds(dag_bag, full_refresh: bool) -> None:
    dag = dag_bag.dags["ronghe_transform"]
    assert dag.params["full_refresh"] is False
    for group in ("dbt_staging", "dbt_unified"):
        build = copy.copy(dag.get_task(f"{group}.dbt_producer_watcher"))
        # What Airflow renders into the templated field when the run starts.
        build.full_refresh = build.render_template(
            build.full_refresh, {"params": {"full_refresh": full_refresh}}
        )
        assert ("--full-refresh" in build.add_cmd_flags()) is full_refresh
