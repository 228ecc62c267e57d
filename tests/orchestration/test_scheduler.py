"""The pipeline under Airflow's real scheduler: schedules, assets, pools, connections.

A deployment like docker-compose.airflow.yml (api-server, scheduler,
dag-processor and triggerer as separate processes, LocalExecutor, PostgreSQL
metadata database) runs the DAG folder over a small generated estate:

1. Three extract DAGs are switched on; the scheduler runs each for its latest
   interval. The transform is still off, so their asset events queue nothing.
2. The transform and then POS are switched on: POS's announce publishes its
   raw tables and the scheduler starts ONE asset-triggered transform run,
   which builds, checks and publishes the marts.
3. Earlier POS hours are backfilled (`airflow backfill create`): with
   nothing new, each run ends at the short-circuit, publishes no asset
   event, and no transform run follows.

The ERP database and the e-commerce API are reached only through Airflow
connections (`AIRFLOW_CONN_*`): the ERP file is moved out of the source drop.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ronghe.ecommerce_api import start_server
from ronghe.generate import generate_estate
from tests.orchestration.services import start_services

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow, pytest.mark.scheduler]

FIRST_SOURCES = ("ronghe_extract_erp", "ronghe_extract_wms", "ronghe_extract_ecommerce")
TOKEN = "scheduler-test-token"
FINISHED = ("success", "failed")


def _last_run(services, dag_id: str) -> dict | None:
    runs = services.dag_runs(dag_id)
    return runs[-1] if runs and runs[-1]["state"] in FINISHED else None


def _first_run(services, dag_id: str) -> dict | None:
    """The DAG's first run once finished: a 15-minute schedule may start another
    during the test, which rightly finds nothing new."""
    runs = services.dag_runs(dag_id)
    return runs[0] if runs and runs[0]["state"] in FINISHED else None


def test_assets_trigger_the_transform_under_the_real_scheduler(
    postgres_server, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sources = tmp_path / "sources"
    generate_estate(sources, scale=0.01, seed=11, days=7)
    erp_db = tmp_path / "erp-server" / "erp.db"
    erp_db.parent.mkdir()
    shutil.move(sources / "erp" / "erp.db", erp_db)
    home = tmp_path / "ronghe-home"
    warehouse = home / "warehouse.duckdb"

    with start_server(sources, token=TOKEN) as api:
        services = start_services(
            tmp_path / "airflow",
            postgres_server.create_database("airflow_scheduler_test"),
            {
                "RONGHE_HOME": str(home),
                "RONGHE_SOURCES_DIR": str(sources),
                "RONGHE_WAREHOUSE": str(warehouse),
                "AIRFLOW_CONN_RONGHE_ERP": f"sqlite:///{erp_db}",
                "AIRFLOW_CONN_RONGHE_ECOMMERCE_API": f"http://:{TOKEN}@127.0.0.1:{api.port}",
                # Bytecode cached across the deployment's many short task processes.
                "PYTHONPYCACHEPREFIX": str(tmp_path_factory.getbasetemp() / "pycache"),
            },
        )
        try:
            services.wait_until(
                "the dag-processor to register the five DAGs",
                lambda: len(services.query("select dag_id from dag where is_stale is false")) == 5,
                timeout=300,
            )

            # 1. Three sources on their schedules; the transform is off.
            services.cli(
                "dags",
                "unpause",
                "-y",
                "--treat-dag-id-as-regex",
                "^ronghe_extract_(erp|wms|ecommerce)$",
            )
            first = {
                dag_id: services.wait_until(
                    f"a finished run of {dag_id}", lambda d=dag_id: _first_run(services, d), 600
                )
                for dag_id in FIRST_SOURCES
            }
            for dag_id, run in first.items():
                assert run["run_type"] == "scheduled", run
                assert run["state"] == "success", (
                    dag_id,
                    services.task_states(dag_id, run["run_id"]),
                )
                assert services.task_states(dag_id, run["run_id"])["announce"] == "success"
            assert services.dag_runs("ronghe_transform") == []

            # 2. POS lands: its asset events start the transform.
            services.cli("dags", "unpause", "-y", "ronghe_transform")
            services.cli("dags", "unpause", "-y", "ronghe_extract_pos")
            pos = services.wait_until(
                "a finished POS run", lambda: _last_run(services, "ronghe_extract_pos"), 600
            )
            assert pos["state"] == "success"
            transform = services.wait_until(
                "a finished transform run",
                lambda: _last_run(services, "ronghe_transform"),
                900,
                every=5,
            )
            states = services.task_states("ronghe_transform", transform["run_id"])
            failed = {task: state for task, state in states.items() if state != "success"}
            assert transform["state"] == "success", failed
            assert transform["run_type"] == "asset_triggered"
            assert len(services.dag_runs("ronghe_transform")) == 1
            triggering = services.query(
                "select a.name, e.extra from asset_event e join asset a on a.id = e.asset_id "
                "join dagrun_asset_event r on r.event_id = e.id "
                "join dag_run d on d.id = r.dag_run_id where d.run_id = %s",
                (transform["run_id"],),
            )
            # The run consumes every raw-table event since the last run, POS's included.
            assert {name for name, _ in triggering} >= {"raw.pos_lines", "raw.pos_transactions"}
            assert {extra["source"] for _, extra in triggering} >= {"pos"}
            assert all(extra["batch_id"] and "rows_loaded" in extra for _, extra in triggering)

            # 3. A backfill of earlier hours: nothing new, so no announce, no transform.
            hour = datetime.now(UTC).replace(minute=5, second=0, microsecond=0)
            services.cli(
                "backfill", "create", "--dag-id", "ronghe_extract_pos",
                "--from-date", (hour - timedelta(hours=4)).isoformat(),
                "--to-date", (hour - timedelta(hours=3)).isoformat(),
            )  # fmt: skip

            # A backfill creates all its runs at once; the scheduler then runs them.
            backfill_ids = [
                run["run_id"]
                for run in services.dag_runs("ronghe_extract_pos")
                if run["run_type"] == "backfill"
            ]
            assert backfill_ids

            def finished_backfill_runs() -> list[dict] | None:
                runs = [
                    run
                    for run in services.dag_runs("ronghe_extract_pos")
                    if run["run_id"] in backfill_ids
                ]
                return runs if all(run["state"] in FINISHED for run in runs) else None

            backfilled = services.wait_until(
                "the backfill runs of POS", finished_backfill_runs, 300
            )
            for run in backfilled:
                assert run["state"] == "success"
                assert services.task_states("ronghe_extract_pos", run["run_id"]) == {
                    "extract": "success",
                    "new_data_landed": "success",
                    "announce": "skipped",
                }
                seconds = (run["end_date"] - run["start_date"]).total_seconds()
                print(f"POS run that found nothing new: {seconds:.1f}s under the scheduler")
            time.sleep(15)  # several scheduler loops: no transform run may follow
            assert len(services.dag_runs("ronghe_transform")) == 1
        finally:
            services.stop()

    with duckdb.connect(str(warehouse), read_only=True) as db:
        marts = db.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        assert marts
        for (table,) in marts:
            assert db.execute(f"select count(*) from marts.{table}").fetchone()[0] > 0, table
        published = db.execute(
            "select run_id from ops.publish_log where status = 'published'"
        ).fetchall()
        assert published == [(transform["run_id"],)]
        loaded_sources = {
            source
            for (source,) in db.execute("select distinct source from ops.load_batches").fetchall()
        }
        assert loaded_sources == {"erp", "pos", "wms", "ecommerce"}
