"""Every figure `ronghe eval` reports, gathered from the modules that own them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ronghe.evaluate.rows import rows_by_layer
from ronghe.settings import Settings


def evaluate(settings: Settings, sources_dir: Path) -> dict[str, Any]:
    """One JSON-ready object: rows_by_layer (layer -> table -> rows)."""
    return {"rows_by_layer": rows_by_layer(settings)}


def print_report(report: dict[str, Any]) -> None:
    print("Rows by layer")
    for layer, tables in report["rows_by_layer"].items():
        print(f"  {layer}")
        for table, rows in tables.items():
            print(f"    {table:<40} {rows:>12,}")
