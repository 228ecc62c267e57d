"""Where lineage events go: one JSON Lines file per run, and an HTTP endpoint when configured.

Every event of one Airflow DAG run (its extract or dbt steps) lands in

    RONGHE_HOME/lineage/events/<dag_id>/<run id>.jsonl

through openlineage-python's file transport. The file is the record: a write
that fails raises. When `OPENLINEAGE_URL` is set (e.g. a Marquez server) each
event also goes there through the client's HTTP transport; an endpoint that
fails is logged as an error naming the events it missed, and the file still
holds them all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ronghe.lineage.naming import JOB_NAMESPACE, PRODUCER
from ronghe.settings import Settings

log = logging.getLogger(__name__)

EVENTS_DIR = ("lineage", "events")
# A lineage server that is down must not hold a pipeline step for minutes.
HTTP_TIMEOUT_SECONDS = 5.0
HTTP_RETRY = {"total": 2, "connect": 1, "read": 1, "backoff_factor": 0.2}


def events_dir(home: Path) -> Path:
    return Path(home).joinpath(*EVENTS_DIR)


def column_cache_file(home: Path) -> Path:
    """Column lineage of dbt models kept between builds (`ronghe.lineage.column_cache`)."""
    return Path(home) / "lineage" / "column_cache.json"


def events_file(home: Path, dag_id: str, run_id: str) -> Path:
    """The events file of one DAG run (the run id made file-name safe)."""
    return events_dir(home) / dag_id / f"{re.sub(r'[^A-Za-z0-9_.+-]', '_', run_id)}.jsonl"


def events_files(home: Path) -> list[Path]:
    """Every run's events file under a RONGHE_HOME, oldest first."""
    return sorted(events_dir(home).glob("*/*.jsonl"), key=lambda path: path.stat().st_mtime)


def _http_transport(settings: Settings) -> Any:
    from openlineage.client.transport import get_default_factory

    auth = {"type": "api_key", "apiKey": settings.lineage_api_key}
    return get_default_factory().create(
        {
            "type": "http",
            "url": settings.lineage_url,
            "timeout": HTTP_TIMEOUT_SECONDS,
            "retry": HTTP_RETRY,
            "auth": auth if settings.lineage_api_key else {},
        }
    )


def _job_name(event: Any) -> str:
    return event["job"]["name"] if isinstance(event, dict) else event.job.name


def emit(settings: Settings, path: Path, events: Iterable[Any]) -> None:
    """Write the events to the run's file (and the configured endpoint), in order."""
    from openlineage.client.transport.file import FileConfig, FileTransport

    events = list(events)
    path.parent.mkdir(parents=True, exist_ok=True)
    file = FileTransport(FileConfig(log_file_path=str(path), append=True))
    for event in events:
        file.emit(event)
    if settings.lineage_url:
        _send(settings, path, events)


def _send(settings: Settings, path: Path, events: list[Any]) -> None:
    """Send the events to the endpoint; one that fails gets none of the rest of this batch."""
    http = _http_transport(settings)
    for sent, event in enumerate(events):
        try:
            http.emit(event)
        except Exception as error:  # the file keeps every event; the operator must know
            log.error(
                "OpenLineage endpoint %s did not take the event of %s (%s): it and the "
                "%d events after it are only in %s",
                settings.lineage_url,
                _job_name(event),
                error,
                len(events) - sent - 1,
                path,
            )
            return


@dataclass(frozen=True)
class TaskRun:
    """The Airflow task run a step runs in: its events' file and their parent run."""

    dag_id: str
    run_id: str
    """The Airflow DAG run id."""
    parent: Any
    """The OpenLineage parent run facet naming the Airflow task run (and the DAG run as root)."""


def current_task_run() -> TaskRun | None:
    """The running Airflow task, named as the Airflow OpenLineage provider names it."""
    from airflow.providers.openlineage.plugins import macros
    from airflow.sdk import get_current_context
    from openlineage.client.facet_v2 import parent_run

    try:
        context = get_current_context()
    except RuntimeError:  # not inside a task
        return None
    ti = context["ti"]
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=macros.lineage_run_id(ti)),
        job=parent_run.Job(namespace=JOB_NAMESPACE, name=macros.lineage_job_name(ti)),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=macros.lineage_root_run_id(ti)),
            job=parent_run.RootJob(namespace=JOB_NAMESPACE, name=macros.lineage_root_job_name(ti)),
        ),
        producer=PRODUCER,
    )
    return TaskRun(dag_id=ti.dag_id, run_id=ti.run_id, parent=parent)
