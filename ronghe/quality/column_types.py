"""`ExpectColumnsToHaveTypes`: every listed column has a type of the expected family.

One expectation per table instead of one per column: it reads GX's
`table.column_types` metric (already computed for the column-set check), so
it costs no extra query. Families rather than type names keep one suite
valid on DuckDB and PostgreSQL (`VARCHAR` or `TEXT` are both `text`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from great_expectations.expectations.expectation import BatchExpectation

# Family -> the SQLAlchemy types that belong to it.
FAMILIES: dict[str, tuple[type, ...]] = {
    "text": (sa.String,),
    "integer": (sa.Integer,),
    "decimal": (sa.Numeric,),
    "timestamp": (sa.DateTime,),
    "date": (sa.Date,),
    "boolean": (sa.Boolean,),
}


def family_of(column_type: Any) -> str | None:
    for family, types in FAMILIES.items():
        if isinstance(column_type, types) and not (
            family == "decimal" and isinstance(column_type, sa.Float | sa.Integer)
        ):
            return family
    return None


class ExpectColumnsToHaveTypes(BatchExpectation):
    """Each column of `column_families` exists with a type of its family."""

    column_families: dict[str, str]
    """column name -> family (`text`, `integer`, `decimal`, `timestamp`, `date`, `boolean`)."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("table.column_types",)
    success_keys: ClassVar[tuple[str, ...]] = ("column_families",)
    args_keys: ClassVar[tuple[str, ...]] = ("column_families",)

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        actual = {column["name"]: column["type"] for column in metrics["table.column_types"]}
        mismatched = {
            name: {"expected": family, "found": str(actual[name])}
            for name, family in self.column_families.items()
            if name in actual and family_of(actual[name]) != family
        }
        return {
            "success": not mismatched,
            "result": {"observed_value": mismatched or "every column has its expected type"},
        }
