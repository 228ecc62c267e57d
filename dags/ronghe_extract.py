"""Airflow DAGs `ronghe_extract_<source>`: one per file in `extractors/sources/`.

Each source's streams, raw tables and schedule are declared in its own file;
this module only draws a DAG for each (see `ronghe.orchestration.extract`).
Adding a source is adding its file and its extractor, not a DAG.
"""

from ronghe.orchestration.extract import build_extract_dag, extract_specs

for spec in extract_specs():
    globals()[spec.dag_id] = build_extract_dag(spec)
