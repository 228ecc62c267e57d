"""The summary `ronghe run` prints at the end of a successful run."""

from __future__ import annotations

from pathlib import Path

from ronghe.evaluate.rows import rows_by_layer
from ronghe.settings import Settings


def print_summary(settings: Settings, log_path: Path) -> None:
    layers = rows_by_layer(settings)
    print("\nRows per layer")
    for layer, tables in layers.items():
        print(f"  {layer:<16} {sum(tables.values()):>12,} rows in {len(tables)} tables")
    print("\nWhere things are")
    print(f"  warehouse        {settings.warehouse}")
    print(f"  reports          {settings.home / 'reports'}")
    print(f"  Airflow log      {log_path}")
