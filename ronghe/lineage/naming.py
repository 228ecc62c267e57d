"""Names of what lineage speaks about: the warehouse's tables, the sources' data, the jobs.

A warehouse table has one name everywhere, `<schema>.<table>` (made by
`ronghe.orchestration.assets.dataset_name`): the Airflow asset, the dbt
relation, the quality suite's dataset and the OpenLineage dataset name agree
by construction. The OpenLineage namespace says which warehouse holds it.

Source data follows OpenLineage's naming conventions for its system: the
files of a drop (namespace `file`, the path pattern of a stream's files), the
ERP's tables (the database, credentials removed) and the e-commerce API's
endpoints (the API's origin, the endpoint path).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from openlineage.client.event_v2 import Job
from openlineage.client.facet_v2 import job_type_job

from ronghe.orchestration.assets import dataset_name
from ronghe.settings import Settings

JOB_NAMESPACE = "ronghe"
"""Namespace of every job Ronghe runs; also the Airflow provider's (`[openlineage] namespace`)."""

PRODUCER = "https://github.com/ronghe-data/ronghe"
"""The `producer` of the events Ronghe writes itself."""


@dataclass(frozen=True, order=True)
class DatasetId:
    """One dataset as OpenLineage names it."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def warehouse_namespace(settings: Settings) -> str:
    """`duckdb:///path/warehouse.duckdb`, or `postgres://host:port/database`."""
    if settings.warehouse_is_postgres:
        url = urlparse(settings.warehouse)
        database = url.path.lstrip("/")
        return f"postgres://{url.hostname or 'localhost'}:{url.port or 5432}/{database}"
    return f"duckdb://{settings.warehouse_path}"


def warehouse_dataset(settings: Settings, schema: str, table: str) -> DatasetId:
    return DatasetId(warehouse_namespace(settings), dataset_name(schema, table))


def file_pattern_dataset(sources_dir: Path, pattern: str) -> DatasetId:
    """The files of one stream of a drop, e.g. `/data/sources/pos/*/*/lines.csv`."""
    return DatasetId("file", str(Path(sources_dir) / pattern))


def database_table_dataset(url: str, table: str) -> DatasetId:
    """A table of a source database reached through a SQLAlchemy URL (credentials dropped)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return DatasetId(f"sqlite://{Path(parsed.database or '').resolve()}", table)
    port = f":{parsed.port}" if parsed.port else ""
    host = f"{parsed.host or 'localhost'}{port}"
    return DatasetId(f"{backend}://{host}", f"{parsed.database}.{table}")


def api_endpoint_dataset(base_url: str, endpoint: str) -> DatasetId:
    """An endpoint of an HTTP API: namespace the API's origin, name its path."""
    url = urlparse(base_url)
    port = f":{url.port}" if url.port else ""
    return DatasetId(f"{url.scheme}://{url.hostname}{port}", f"{url.path.rstrip('/')}{endpoint}")


def extract_job(source: str) -> str:
    return f"extract.{source}"


def dbt_model_job(model: str) -> str:
    return f"dbt.model.{model}"


def batch_job(name: str, integration: str, job_type: str) -> Job:
    """A job of our namespace with its type facet: what ran (a model, an extract, a check)."""
    return Job(
        namespace=JOB_NAMESPACE,
        name=name,
        facets={
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH",
                integration=integration,
                jobType=job_type,
                producer=PRODUCER,
            )
        },
    )
