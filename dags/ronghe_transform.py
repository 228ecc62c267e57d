"""Airflow DAG `ronghe_transform`: dbt, identity, quality gates and publish, on new raw data.

Scheduled on the raw-table assets the extract DAGs publish; drawn from the
compiled dbt manifest (see `ronghe.orchestration.transform`).
"""

# The dag-processor imports the `airflow.*` modules a DAG file names once, in its
# main process (`parsing_pre_import_modules`), rather than in every parse. cosmos'
# operators need the OpenLineage extractors: the heaviest import of this file.
import airflow.providers.openlineage.extractors  # noqa: F401

from ronghe.orchestration.transform import build_transform_dag

ronghe_transform = build_transform_dag()
