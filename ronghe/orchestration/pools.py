"""Airflow pools Ronghe's tasks use.

DuckDB allows one writing process per file, so every task that opens the
warehouse takes the single slot of `warehouse_writer`: two DAGs never write
the warehouse at once, whatever the scheduler does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PoolSpec:
    name: str
    slots: int
    description: str


WAREHOUSE_WRITER = PoolSpec(
    name="warehouse_writer",
    slots=1,
    description="One task at a time opens the warehouse for writing (DuckDB has one writer).",
)

POOLS = (WAREHOUSE_WRITER,)
