"""Serving the published marts to BI tools."""
