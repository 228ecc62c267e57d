"""Row counts of every table and view in the warehouse, by layer (schema)."""

from __future__ import annotations

from ronghe.settings import Settings
from ronghe.warehouse import warehouse_connection

# Layers in flow order; schemas not listed here are reported after them.
LAYER_ORDER = (
    "raw",
    "ops",
    "staging",
    "intermediate",
    "identity",
    "unified",
    "marts_candidate",
    "marts",
)
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "main", "public"}


def rows_by_layer(settings: Settings) -> dict[str, dict[str, int]]:
    """layer -> table -> rows, for the warehouse the settings name."""
    with warehouse_connection(settings) as connection:
        cursor = connection.cursor()
        cursor.execute(
            "select table_schema, table_name from information_schema.tables "
            "order by table_schema, table_name"
        )
        relations = [
            (schema, table)
            for schema, table in cursor.fetchall()
            if schema not in _SYSTEM_SCHEMAS and not schema.startswith("pg_")
        ]
        counts: dict[str, dict[str, int]] = {}
        for schema, table in relations:
            cursor.execute(f'select count(*) from "{schema}"."{table}"')
            counts.setdefault(schema, {})[table] = int(cursor.fetchone()[0])
    order = {name: index for index, name in enumerate(LAYER_ORDER)}
    return dict(sorted(counts.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))
