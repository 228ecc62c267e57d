"""Lineage and the auditor's view: OpenLineage events, column lineage, record-level traces."""
