"""Data quality: GX suites run as checkpoints, evidence kept, marts published only when clean.

Entry points (plain functions taking settings and a run id, returning small dicts):
`run_quality_gate` (runner.py), `publish_marts` (publish.py), `build_data_docs`
(data_docs.py), `build_quality_report` (report.py), `defect_coverage`
(defect_coverage.py).
"""
