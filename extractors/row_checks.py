"""A stream's contract as SQL over staged rows: why a row fails it, and its content hash.

Both run in the staging DuckDB on rows whose fields are VARCHAR.
"""

from __future__ import annotations

from collections.abc import Iterable

from extractors.contracts import TYPE_CHECKS, StreamContract, type_check_sql
from extractors.raw_columns import sql_literal
from extractors.sinks import quote


def reason_sql(contract: StreamContract) -> str:
    """Why a row fails the contract, or NULL.

    A cheap test lets most rows through first; the exact checks (on the trimmed
    value, `exact_reason_sql`) run only for rows it does not pass. The cheap test
    only has to be sufficient: a valid row it misses still gets NULL from the
    exact checks, it merely costs their time.
    """
    passes = [p for f in contract.fields for p in _cheap_passes(f.name, f.type, f.required)]
    if not passes:
        return "_reason"
    return (
        f"CASE WHEN _reason IS NULL AND {' AND '.join(passes)} THEN NULL "
        f"ELSE {exact_reason_sql(contract)} END"
    )


def exact_reason_sql(contract: StreamContract) -> str:
    """Why a row fails the contract, or NULL, spelled out field by field."""
    reasons = []
    for f in contract.fields:
        col = quote(f.name)
        empty = f"({col} IS NULL OR trim({col}) = '')"
        if f.required:
            reasons.append(f"CASE WHEN {empty} THEN 'required field {f.name} is empty' END")
        if f.type != "string":
            valid = type_check_sql(f.type, col)
            reasons.append(
                f"CASE WHEN NOT {empty} AND NOT ({valid}) THEN "
                f"'field {f.name} = ' || {col} || ' does not parse as {f.type}' END"
            )
    if not reasons:
        return "_reason"
    return f"coalesce(_reason, nullif(concat_ws('; ', {', '.join(reasons)}), ''))"


def _cheap_passes(name: str, type_name: str, required: bool) -> list[str]:
    """Tests that imply the field is valid. Every type's pattern starts and ends with a
    non-blank character, so a value that matches untrimmed is its own trimmed text and
    the trim can be skipped; padded values take the exact path."""
    col = quote(name)
    if type_name == "string":
        return [f"trim({col}) <> ''"] if required else []
    untrimmed = TYPE_CHECKS[type_name].replace("@v", col)
    if required:
        return [f"({untrimmed})"]
    return [f"({col} IS NULL OR {col} = '' OR ({untrimmed}))"]


def row_hash_sql(columns: Iterable[str]) -> str:
    """The row's content hash over its source `columns` (see `raw_columns.ROW_HASH_COLUMN`)."""
    # Columns in name order, NULLs contributing nothing: a column the source
    # adds later changes the hash only where it carries a value. `||` yields NULL
    # for a NULL value and concat() skips NULLs, so no CASE is needed per column.
    parts = [f"{sql_literal(c)} || chr(31) || {quote(c)} || chr(30)" for c in sorted(columns)]
    return f"CAST(md5_number_lower(concat({', '.join(parts)})) >> 1 AS BIGINT)"
