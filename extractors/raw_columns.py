"""The columns the landing framework owns, and how a source value becomes raw text."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

METADATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_batch_id", "VARCHAR"),
    ("_origin", "VARCHAR"),
    ("_origin_line", "BIGINT"),
    ("_loaded_at", "TIMESTAMP"),
)
ROW_HASH_COLUMN = "_row_hash"
"""63 bits of the MD5 of a row's source fields (a BIGINT both engines store compactly), kept
on `history`/`versions` tables to find landed versions; versions are only ever compared under
the same natural key, where a collision is out of reach."""
ROW_HASH_TYPE = "BIGINT"
ROW_ID = "_row"
"""Staging only: the id of a valid row, by which its disposition finds it."""
RESERVED_COLUMNS = frozenset(
    {name for name, _ in METADATA_COLUMNS}
    | {ROW_HASH_COLUMN, "_ord", "_origin_line", "_raw", "_reason", "_why", "_read"}
    | {"_disposition", "_detail", "_superseded_by", "_exact_path", "_exact_file", "_valid"}
    | {"_object", ROW_ID}
)
"""Names used by the framework's own columns; a source column may not carry one."""


def text_value(value: Any) -> str | None:
    """A source value as raw text, without changing what it says."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def sql_literal(value: Any) -> str:
    """A Python value as an SQL literal both engines read the same way."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
