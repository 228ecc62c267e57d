"""One name for a dataset everywhere: Airflow asset, dbt source, GX asset, lineage.

A warehouse table is named `<schema>.<table>` (`raw.pos_lines`,
`marts.mart_sales_daily`): the name of the table in the warehouse, the
`schema.identifier` of its dbt source or model, the dataset of its quality
suite. Lineage and reports build their dataset names with `dataset_name`, so
the names agree by construction rather than by convention.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import Asset

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def dataset_name(schema: str, table: str) -> str:
    """`raw.pos_lines`: the one name of a warehouse table."""
    for part in (schema, table):
        if not _IDENTIFIER.match(part):
            raise ValueError(f"{part!r} is not a lower-case SQL identifier")
    return f"{schema}.{table}"


def split_dataset_name(name: str) -> tuple[str, str]:
    """The (schema, table) of a name made by `dataset_name`."""
    schema, _, table = name.partition(".")
    if not table or dataset_name(schema, table) != name:
        raise ValueError(f"{name!r} is not a `<schema>.<table>` dataset name")
    return schema, table


def warehouse_asset(schema: str, table: str) -> Asset:
    """The Airflow asset of a warehouse table; its group is the schema (the layer)."""
    from airflow.sdk import Asset

    name = dataset_name(schema, table)
    return Asset(name=name, uri=name, group=schema)
