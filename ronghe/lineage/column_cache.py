"""Column lineage kept between dbt builds, keyed by everything it is computed from.

Qualifying a model's compiled SQL and following its columns with sqlglot
costs about 0.1 s per model (3 s for the 35 staging models at SF1, paid by
the build task after every build), while between two runs a model's SQL and
the columns of the tables it reads rarely change. An entry's key is the
compiled SQL, the catalog's columns of the model's input tables, the dialect
and sqlglot's version: a change to any of them computes the lineage again.
Entries unused for `KEEP_DAYS` are dropped when the cache is saved.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlglot

from ronghe.lineage.columns import (
    Catalog,
    Indirect,
    Source,
    catalog_schema,
    full_column_lineage,
)

KEEP_DAYS = 30
Lineage = tuple[dict[str, list[Source]], dict[str, list[Indirect]]]


class ColumnLineageCache:
    """`full_column_lineage` of models against one catalog, remembered in a JSON file."""

    def __init__(self, path: Path, catalog: Catalog, dialect: str) -> None:
        self.path = path
        self.catalog = catalog
        self.dialect = dialect
        self.schema = catalog_schema(catalog, dialect)
        self.today = datetime.now(UTC).date().isoformat()
        self.entries: dict[str, dict] = _read(path)
        self.computed = 0

    def lineage(self, sql: str, inputs: list[str]) -> Lineage:
        """Direct and indirect sources of each output column of `sql`, reading `inputs`.

        `inputs` are the model's input tables as `<database>.<schema>.<table>`.
        """
        key = self._key(sql, inputs)
        entry = self.entries.get(key)
        if entry is None:
            direct, indirect = full_column_lineage(sql, self.schema, self.dialect)
            self.computed += 1
            entry = {"direct": direct, "indirect": indirect}
            self.entries[key] = entry
        entry["used"] = self.today
        return _tuples(entry["direct"]), _tuples(entry["indirect"])

    def save(self) -> None:
        """Write the entries used within `KEEP_DAYS` (atomically: a reader sees old or new)."""
        oldest = (date.fromisoformat(self.today) - timedelta(days=KEEP_DAYS)).isoformat()
        kept = {key: entry for key, entry in self.entries.items() if entry["used"] >= oldest}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        partial.write_text(json.dumps(kept, sort_keys=True), encoding="utf-8")
        partial.replace(self.path)

    def _key(self, sql: str, inputs: list[str]) -> str:
        columns = {name: self._columns(name) for name in sorted(inputs)}
        material = json.dumps(
            [sqlglot.__version__, self.dialect, columns, sql], sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _columns(self, name: str) -> dict[str, str] | None:
        parts = name.split(".")
        if len(parts) < 3:
            return None
        database, schema, table = parts[-3:]
        return self.catalog.get(database, {}).get(schema, {}).get(table)


def _read(path: Path) -> dict[str, dict]:
    """The cache's entries; none when it does not exist yet or cannot be read."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        # A cache only saves work: a damaged one is recomputed, never trusted.
        return {}
    return entries if isinstance(entries, dict) else {}


def _tuples(columns: dict[str, list]) -> dict[str, list]:
    """JSON keeps tuples as lists; give callers the tuples `full_column_lineage` returns."""
    return {column: [tuple(source) for source in sources] for column, sources in columns.items()}
