"""A stream's contract as SQL over staged rows: why a row fails it, and its content hash.

Both run in the staging DuckDB on rows whose fields are VARCHAR.
"""

from __future__ import annotations

from collections.abc import Iterable

from extractors.contracts import StreamContract, type_check_sql
from extractors.raw_columns import sql_literal
from extractors.sinks import quote


def reason_sql(contract: StreamContract) -> str:
    """Why a row fails the contract, or NULL. The reasons are spelled out only for rows
    that fail the plain boolean test first (building them for every row is slow)."""
    passes, reasons = [], []
    for f in contract.fields:
        col = quote(f.name)
        empty = f"({col} IS NULL OR trim({col}) = '')"
        if f.required:
            passes.append(f"NOT {empty}")
            reasons.append(f"CASE WHEN {empty} THEN 'required field {f.name} is empty' END")
        if f.type != "string":
            valid = type_check_sql(f.type, col)
            passes.append(f"({empty} OR ({valid}))")
            reasons.append(
                f"CASE WHEN NOT {empty} AND NOT ({valid}) THEN "
                f"'field {f.name} = ' || {col} || ' does not parse as {f.type}' END"
            )
    if not passes:
        return "_reason"
    return (
        f"CASE WHEN _reason IS NULL AND {' AND '.join(passes)} THEN NULL "
        f"ELSE coalesce(_reason, nullif(concat_ws('; ', {', '.join(reasons)}), '')) END"
    )


def row_hash_sql(columns: Iterable[str]) -> str:
    """The row's content hash over its source `columns` (see `raw_columns.ROW_HASH_COLUMN`)."""
    # Columns in name order, NULLs contributing nothing: a column the source
    # adds later changes the hash only where it carries a value.
    parts = [
        f"CASE WHEN {quote(c)} IS NULL THEN '' ELSE {sql_literal(c)} || chr(31) || "
        f"{quote(c)} || chr(30) END"
        for c in sorted(columns)
    ]
    return f"CAST(md5_number_lower(concat({', '.join(parts)})) >> 1 AS BIGINT)"
