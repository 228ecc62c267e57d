"""The transform DAG: from newly landed raw rows to published marts.

    check_inputs -> dbt_staging -> quality_landed -> resolve_identity
        -> dbt_unified -> publish_marts -> report

`ronghe_transform` is scheduled on the raw-table assets of every extract DAG
(any one of them), so it runs when some source landed new rows and never on
a clock. One run at a time (`max_active_runs=1`); events that arrive during a
run queue the next one, which picks up everything landed meanwhile.

- `check_inputs` fingerprints what the marts depend on (landed batches,
  erasures, steward overrides, the dbt project, quality suites,
  configuration and release; `ronghe.orchestration.fingerprint`). When it
  equals the fingerprint the last successful publish recorded, the marts
  are already what this run would build: every later task is skipped (the
  run succeeds) and the log and run record say which run it matches. The
  run parameter `force` (`ronghe run --force`, or `airflow dags trigger
  ronghe_transform --conf '{"force": true}'`) rebuilds regardless; the
  parameter `full_refresh` (`ronghe run --full-refresh`, or `--conf
  '{"full_refresh": true}'`) also builds every incremental model from the raw
  layer again (`dbt build --full-refresh`), so rows built under an earlier
  business-rule threshold follow the current one.
- `dbt_staging` builds and tests every dbt node that does not depend on the
  identity step: staging, and the intermediate models that prepare the
  identity evidence. `dbt_unified` builds the rest: everything downstream of
  the `identity` dbt source, up to the marts in schema `marts_candidate`.
  Each group runs ONE `dbt build` of its models and data tests (unit tests run in CI)
  (cosmos WATCHER mode, dbt invoked in the build task's process), then shows
  one task per model with that model's result and compiled SQL: per-model
  visibility without starting dbt once per model. A failing test fails the
  build, whose failure report names it; dbt skips what depends on it.
- `quality_landed` runs the blocking checks on the landed and staged data
  (`raw` and `staging` suites) before the identity step changes any state.
- `resolve_identity` runs `ronghe.identity.resolve`: member and SKU keys.
- `publish_marts` audits the candidate marts (`unified` and `marts` suites)
  and, only if every blocking check passes, replaces `marts` in one
  transaction (write-audit-publish), then records the run's input
  fingerprint. Its outlets are the published marts.
- `report` renders the auditors' quality and lineage reports and Data Docs and
  keeps the record of what each step reported
  (`RONGHE_HOME/reports/runs/<run id>.json`).

Each dbt build, quality gate and publish also records its OpenLineage events
(`ronghe.lineage`) in `RONGHE_HOME/lineage/events/ronghe_transform/<run id>.jsonl`.

Every task that opens the warehouse holds the one slot of pool
`warehouse_writer`. dbt tasks are not retried by Airflow: a failed build is
re-run by clearing its `dbt_producer_watcher` task with its downstream tasks,
which is safe (models are idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from ronghe.orchestration.assets import dataset_name, split_dataset_name, warehouse_asset
from ronghe.orchestration.dbt_manifest import require_manifest
from ronghe.orchestration.extract import START_DATE, extract_specs
from ronghe.orchestration.failures import FailureReport, task_defaults
from ronghe.orchestration.fingerprint import FINGERPRINT_TABLE
from ronghe.orchestration.pools import WAREHOUSE_WRITER
from ronghe.settings import Settings, load_settings
from ronghe.transform.dbt_invocation import dbt_target

DAG_ID = "ronghe_transform"
# The dbt source the identity step writes; what depends on it runs after the step.
IDENTITY_SOURCE = "identity"
CANDIDATE_SCHEMA = "marts_candidate"
PUBLISHED_SCHEMA = "marts"
DBT_TIMEOUT = timedelta(hours=2)
STEP_TIMEOUT = timedelta(hours=1)
IDENTITY_TABLES = ("identity.member_xref", "identity.sku_xref", "identity.member_records")
# Run parameter: rebuild even when nothing changed since the last publish.
FORCE_PARAM = "force"
# Run parameter: rebuild every incremental model from the raw layer (`dbt build
# --full-refresh`), e.g. after a business-rule threshold changed; implies FORCE_PARAM.
FULL_REFRESH_PARAM = "full_refresh"


class NotTheBuildError(RuntimeError):
    """A per-model dbt task found no result of its model and would have run dbt itself."""


def prepare_dbt(context: Any, operator: Any) -> None:
    """cosmos interceptor, run in the task before dbt starts: environment, vars, lock check.

    The warehouse location and credentials are resolved here, at run time, so
    they never land in the serialized DAG. Only a group's build task may run
    dbt: a cleared per-model task would otherwise run its model in a dbt of
    its own, outside the `warehouse_writer` pool.
    """
    from cosmos.constants import PRODUCER_WATCHER_TASK_ID

    from ronghe.transform.dbt_invocation import dbt_environment, dbt_vars

    if not operator.task_id.endswith(PRODUCER_WATCHER_TASK_ID):
        raise NotTheBuildError(
            f"{operator.task_id} has no result from its group's dbt build: the build failed "
            "before reaching this model (see the build task's failure), or this task was "
            "cleared on its own. It does not run dbt by itself (the warehouse has one writer): "
            f"to build again, clear the group's `{PRODUCER_WATCHER_TASK_ID}` task with its "
            "downstream tasks."
        )
    settings = load_settings()
    ensure_warehouse_free(settings)
    operator.env = {**(operator.env or {}), **dbt_environment(settings)}
    operator.vars = dbt_vars(settings)


def release_dbt_warehouse(context: Any, result: Any = None) -> None:
    """After a dbt build: drop the DuckDB handle dbt-duckdb keeps for the whole process.

    Under the scheduler every task is a process of its own; under `dag.test()`
    (`ronghe run`) the next task runs in this process, and DuckDB refuses its
    connection while this one, opened with another configuration, lives on.
    """
    from ronghe.transform.dbt_invocation import release_duckdb_file

    release_duckdb_file()


def record_dbt_lineage(project_dir: str, context: Any = None) -> None:
    """cosmos callback after each dbt build, failed or not: record each model's lineage.

    It runs before cosmos raises a failed build's error, so a failure's
    models are recorded too. The warehouse is released first (the lineage
    reads its catalog); `ronghe.lineage.dbt_events` makes one event per model
    from the build's artifacts in cosmos' copy of the project (COMPLETE,
    FAIL, or ABORT for a model dbt skipped) and writes them to the run's
    lineage file.
    """
    from ronghe.lineage.dbt_events import build_events, emit_build_lineage

    release_dbt_warehouse(context)
    settings = load_settings()
    emit_build_lineage(settings, build_events(Path(project_dir), dbt_target(settings)))


def ensure_warehouse_free(settings: Settings) -> None:
    """Raise WarehouseLockedError (naming the holder) if another process holds the DuckDB file."""
    if settings.warehouse_is_postgres:
        return
    from ronghe.warehouse import connect

    connect(settings.warehouse_path).close()


def model_relations(manifest: dict[str, Any]) -> dict[str, str]:
    """dbt model unique id -> dataset name of the relation it builds (`unified.dim_member`)."""
    return {
        unique_id: dataset_name(node["schema"], node.get("alias") or node["name"])
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }


def after_identity_selectors(manifest: dict[str, Any]) -> list[str]:
    """dbt selectors of every node downstream of the identity step's tables.

    One selector per source table (`source:identity.member_xref+`): the form
    both dbt and cosmos' manifest selection read the same way.
    """
    return sorted(
        f"source:{source['source_name']}.{source['name']}+"
        for source in manifest["sources"].values()
        if source["source_name"] == IDENTITY_SOURCE
    )


def published_marts(manifest: dict[str, Any]) -> list[str]:
    """Dataset names of the marts BI reads once published (`marts.mart_sales_daily`)."""
    return sorted(
        dataset_name(PUBLISHED_SCHEMA, split_dataset_name(name)[1])
        for name in model_relations(manifest).values()
        if split_dataset_name(name)[0] == CANDIDATE_SCHEMA
    )


class DbtFailureReport(FailureReport):
    """Failure report of a dbt task: the table of the model it watches, when it watches one."""

    def __init__(self, relations: dict[str, str]) -> None:
        super().__init__()
        self.relations = relations

    def __call__(self, context: Any) -> None:
        model = getattr(context.get("task"), "model_unique_id", None)
        self.tables = (self.relations[model],) if model in self.relations else ()
        super().__call__(context)


def _dbt_group(
    group_id: str,
    *,
    select: Iterable[str] = (),
    exclude: Iterable[str] = (),
    manifest_file: Path,
    relations: dict[str, str],
    settings: Settings,
) -> Any:
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    from ronghe.transform.dbt_invocation import DBT_PROJECT_DIR

    project_config = ProjectConfig(
        dbt_project_path=DBT_PROJECT_DIR,
        manifest_path=manifest_file,
        project_name="ronghe",
        install_dbt_deps=False,
    )
    # cosmos wraps the path in Airflow's ObjectStoragePath, whose first use loads
    # every Airflow plugin: half a second of each DAG parse for a local file.
    project_config.manifest_path = manifest_file
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=project_config,
        profile_config=ProfileConfig(
            profile_name="ronghe",
            target_name=dbt_target(settings),
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=list(select),
            exclude=list(exclude),
            # No task per test: the build runs them (see dbt_cmd_flags).
            test_behavior=TestBehavior.NONE,
            # Warehouse tables are announced once, under Ronghe's dataset names, by
            # publish_marts; cosmos would add an asset per model under names of its own.
            emit_datasets=False,
        ),
        operator_args={
            "interceptors": [prepare_dbt],
            "post_execute": release_dbt_warehouse,
            "callback": record_dbt_lineage,
            # cosmos limits the build to models, seeds and snapshots when tests have
            # no tasks of their own; the build runs the data tests as well. Unit tests
            # check the models' SQL on fixed fixtures, not the data: they run in CI
            # (tests/dbt), not on every production build.
            "dbt_cmd_flags": ["--resource-type", "test"],
            # Rendered at run time from the run's parameter; cosmos adds `--full-refresh`.
            "full_refresh": "{{ params." + FULL_REFRESH_PARAM + " }}",
            # A retried producer would hand each model to its own dbt process.
            "retries": 0,
            "execution_timeout": DBT_TIMEOUT,
            "on_failure_callback": DbtFailureReport(relations),
        },
    )
    _watch_after_build(group)
    return group


def build_task(group: Any) -> Any:
    """The task of a dbt group that runs its one `dbt build`."""
    from cosmos.constants import PRODUCER_WATCHER_TASK_ID

    return group.children[f"{group.group_id}.{PRODUCER_WATCHER_TASK_ID}"]


def _watch_after_build(group: Any) -> None:
    """Start the per-model tasks once the group's one `dbt build` has finished.

    cosmos lets them watch the build while it runs, each deferring to the
    triggerer and resuming in a second worker process. Started afterwards,
    each finds its model's result at once: one short task per model, no
    deferral, and `dag.test()` (which runs tasks one by one) works too. They
    start whether the build succeeded or not, so a failed build still shows
    which models succeeded, failed or were skipped.
    """
    from airflow.sdk import TriggerRule

    producer = build_task(group)
    # Only the build writes the warehouse; the watchers read its XCom.
    producer.pool = WAREHOUSE_WRITER.name
    watchers = [task for task in group.get_roots() if task is not producer]
    producer >> watchers
    for watcher in watchers:
        # Run after a build that succeeded or failed, not after one that never ran.
        # Their only upstream is the build: the group's upstream goes to the build.
        watcher.trigger_rule = TriggerRule.ONE_DONE


def build_transform_dag() -> Any:
    """The DAG `ronghe_transform` (see the module docstring)."""
    from airflow.sdk import AssetAny, Param, dag, task

    settings = load_settings()
    manifest_file = require_manifest(settings)
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    relations = model_relations(manifest)
    raw_tables = sorted({table for spec in extract_specs() for table in spec.raw_tables})
    marts = published_marts(manifest)
    after_identity = after_identity_selectors(manifest)

    @dag(
        dag_id=DAG_ID,
        schedule=AssetAny(*(warehouse_asset(*split_dataset_name(t)) for t in raw_tables)),
        start_date=START_DATE,
        # Runs are made by asset events, never by the calendar.
        catchup=False,
        max_active_runs=1,
        tags=["ronghe", "transform", "dbt", "quality"],
        doc_md=__doc__,
        default_args=task_defaults(execution_timeout=STEP_TIMEOUT),
        params={
            FORCE_PARAM: Param(
                False,
                type="boolean",
                description="Rebuild even if nothing changed since the last published run.",
            ),
            FULL_REFRESH_PARAM: Param(
                False,
                type="boolean",
                description=(
                    "Rebuild every incremental model from the raw layer (dbt --full-refresh), "
                    "e.g. after a business-rule threshold changed. Implies force."
                ),
            ),
        },
    )
    def ronghe_transform() -> None:
        @task.short_circuit(
            pool=WAREHOUSE_WRITER.name,
            on_failure_callback=FailureReport(("ops.load_batches", FINGERPRINT_TABLE)),
        )
        def check_inputs(**context: Any) -> dict[str, Any] | bool:
            from ronghe.orchestration.steps import check_inputs as decide

            params = context["params"]
            full_refresh = bool(params.get(FULL_REFRESH_PARAM, False))
            force = full_refresh or bool(params.get(FORCE_PARAM, False))
            decision = decide(context["run_id"], force=force, full_refresh=full_refresh)
            # A falsy result skips every later task: the run succeeds with nothing rebuilt.
            return decision if decision["rebuild"] else False

        staging = _dbt_group(
            "dbt_staging",
            exclude=after_identity,
            manifest_file=manifest_file,
            relations=relations,
            settings=settings,
        )

        @task(pool=WAREHOUSE_WRITER.name, on_failure_callback=FailureReport(raw_tables))
        def quality_landed(**context: Any) -> dict[str, Any]:
            from ronghe.orchestration.steps import check_landed

            return check_landed(context["run_id"])

        @task(pool=WAREHOUSE_WRITER.name, on_failure_callback=FailureReport(IDENTITY_TABLES))
        def resolve_identity() -> dict[str, Any]:
            from ronghe.orchestration.steps import resolve_identity as resolve

            return resolve()

        unified = _dbt_group(
            "dbt_unified",
            select=after_identity,
            manifest_file=manifest_file,
            relations=relations,
            settings=settings,
        )

        @task(
            pool=WAREHOUSE_WRITER.name,
            outlets=[warehouse_asset(*split_dataset_name(mart)) for mart in marts],
            on_failure_callback=FailureReport(marts),
        )
        def publish_marts(decision: dict[str, Any], **context: Any) -> dict[str, Any]:
            from ronghe.orchestration.steps import publish

            return publish(context["run_id"], decision["fingerprint"])

        # The run's reports: the auditors' quality report, Data Docs and the
        # record of what each step reported.
        @task
        def report(
            decided: dict[str, Any],
            landed: dict[str, Any],
            identity: dict[str, Any],
            published: dict[str, Any],
            **context: Any,
        ) -> dict[str, Any]:
            from ronghe.orchestration.steps import build_reports, write_run_record

            steps = {
                "check_inputs": decided,
                "quality_landed": landed,
                "resolve_identity": identity,
                "publish": published,
                "reports": build_reports(context["run_id"]),
            }
            return write_run_record(context["run_id"], steps)

        decision = check_inputs()
        landed = quality_landed()
        identity = resolve_identity()
        published = publish_marts(decision)
        decision >> staging >> landed >> identity >> build_task(unified)
        unified >> published
        report(decision, landed, identity, published)

    return ronghe_transform()
