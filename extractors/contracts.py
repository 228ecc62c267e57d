"""Boundary contracts: what each source stream must deliver, declared as data.

Each source has one file `extractors/sources/<source>.yml` that names its
streams, the raw table each lands in, the natural key, how exact duplicates
are recognised, the fields with the type each must parse as, and
source-specific options (file names, cursors, lookbacks). This module reads
those files into typed objects and turns a field's type into the SQL test the
landing framework uses to decide quarantine. Raw values are never converted:
the type only decides whether a row is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SOURCES_DIR = Path(__file__).resolve().parent / "sources"

# Each type is a predicate on the trimmed text of a non-empty value, in DuckDB SQL
# (`@v` stands for that text). Patterns are strict where a looser cast would let
# through text that staging could not type the same way (`1e3`, `inf`).
_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DATETIME = _DATE + r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
_OFFSET = "(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)"
_VALID_DATETIME = f"try_cast(regexp_extract(@v, '^{_DATETIME}') AS TIMESTAMP) IS NOT NULL"
TYPE_CHECKS: dict[str, str] = {
    "string": "true",
    "integer": "regexp_full_match(@v, '[+-]?[0-9]+')",
    "decimal": r"regexp_full_match(@v, '[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)')",
    "date": f"regexp_full_match(@v, '{_DATE}') AND try_cast(@v AS DATE) IS NOT NULL",
    # A local date-time; an offset is tolerated (it is kept as it arrived).
    "timestamp": f"regexp_full_match(@v, '{_DATETIME}{_OFFSET}?') AND {_VALID_DATETIME}",
    # ISO 8601 with an explicit offset, as the WMS contract promises.
    "timestamptz": f"regexp_full_match(@v, '{_DATETIME}{_OFFSET}') AND {_VALID_DATETIME}",
    "boolean": "lower(@v) IN ('true', 'false', '0', '1')",
}

DEDUP_SCOPES = ("origin", "history", "versions")


class ContractError(ValueError):
    """A source contract file is not well formed."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"
    required: bool = False
    """The column must be present and the value non-empty."""
    aliases: tuple[str, ...] = ()
    """Other header names meaning this field (vendor B's Chinese headers)."""


@dataclass(frozen=True)
class StreamContract:
    source: str
    name: str
    raw_table: str
    fields: tuple[Field, ...]
    natural_key: tuple[str, ...]
    dedup: str
    """`origin`: exact duplicates are looked for within one origin (a file);
    `history`: against the batch and the latest version already landed;
    `versions`: against every version read in the batch or landed before."""
    extras: tuple[tuple[str, str], ...] = ()
    """Per-source metadata columns (name, SQL type) filled from the origin."""
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def header_map(self) -> dict[str, str]:
        """Every accepted header name (canonical or alias) to its canonical name."""
        mapping = {f.name: f.name for f in self.fields}
        for f in self.fields:
            mapping.update({alias: f.name for alias in f.aliases})
        return mapping

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.source}.{self.name} has no field {name!r}")


@dataclass(frozen=True)
class SourceContract:
    name: str
    description: str
    streams: Mapping[str, StreamContract]
    options: Mapping[str, Any] = field(default_factory=dict)

    def stream(self, name: str) -> StreamContract:
        try:
            return self.streams[name]
        except KeyError:
            raise KeyError(f"source {self.name!r} has no stream {name!r}") from None


def type_check_sql(type_name: str, column_sql: str) -> str:
    """SQL that is true when the (non-empty) value in `column_sql` parses as `type_name`."""
    return TYPE_CHECKS[type_name].replace("@v", f"trim({column_sql})")


def _parse_field(source: str, stream: str, spec: Any) -> Field:
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec:
        raise ContractError(f"{source}.{stream}: a field needs at least a name, got {spec!r}")
    type_name = spec.get("type", "string")
    if type_name not in TYPE_CHECKS:
        raise ContractError(
            f"{source}.{stream}.{spec['name']}: unknown type {type_name!r} "
            f"(known: {', '.join(TYPE_CHECKS)})"
        )
    unknown = set(spec) - {"name", "type", "required", "aliases"}
    if unknown:
        raise ContractError(f"{source}.{stream}.{spec['name']}: unknown keys {sorted(unknown)}")
    return Field(
        name=str(spec["name"]),
        type=type_name,
        required=bool(spec.get("required", False)),
        aliases=tuple(str(a) for a in spec.get("aliases", ())),
    )


def _parse_stream(source: str, name: str, spec: Mapping[str, Any]) -> StreamContract:
    fields = tuple(_parse_field(source, name, f) for f in spec.get("fields", ()))
    if not fields:
        raise ContractError(f"{source}.{name}: no fields declared")
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise ContractError(f"{source}.{name}: a field is declared twice")
    key = tuple(spec.get("natural_key", ()))
    if not key:
        raise ContractError(f"{source}.{name}: natural_key is required")
    for column in key:
        if column not in names:
            raise ContractError(f"{source}.{name}: natural key column {column!r} is not a field")
        if not next(f for f in fields if f.name == column).required:
            raise ContractError(f"{source}.{name}: natural key column {column!r} must be required")
    dedup = spec.get("dedup", "history")
    if dedup not in DEDUP_SCOPES:
        raise ContractError(f"{source}.{name}: dedup must be one of {DEDUP_SCOPES}")
    extras = tuple((str(k), str(v)) for k, v in (spec.get("extras") or {}).items())
    known = {"raw_table", "fields", "natural_key", "dedup", "extras"}
    return StreamContract(
        source=source,
        name=name,
        raw_table=str(spec.get("raw_table") or f"{source}_{name}"),
        fields=fields,
        natural_key=key,
        dedup=dedup,
        extras=extras,
        options={k: v for k, v in spec.items() if k not in known},
    )


def parse_source(data: Mapping[str, Any], origin: str = "<memory>") -> SourceContract:
    if not isinstance(data, Mapping) or "source" not in data or "streams" not in data:
        raise ContractError(f"{origin}: expected a mapping with `source` and `streams`")
    name = str(data["source"])
    streams = {
        str(stream): _parse_stream(name, str(stream), spec or {})
        for stream, spec in data["streams"].items()
    }
    options = {k: v for k, v in data.items() if k not in {"source", "description", "streams"}}
    return SourceContract(
        name=name,
        description=str(data.get("description", "")).strip(),
        streams=streams,
        options=options,
    )


@cache
def load_source(name: str) -> SourceContract:
    """The contract of one source, from `extractors/sources/<name>.yml`."""
    path = SOURCES_DIR / f"{name}.yml"
    if not path.exists():
        raise ContractError(f"no contract file for source {name!r} at {path}")
    with path.open(encoding="utf-8") as handle:
        contract = parse_source(yaml.safe_load(handle), str(path))
    if contract.name != name:
        raise ContractError(f"{path}: declares source {contract.name!r}, expected {name!r}")
    return contract


def all_sources() -> list[SourceContract]:
    """Every source with a contract file, in name order."""
    return [load_source(path.stem) for path in sorted(SOURCES_DIR.glob("*.yml"))]
