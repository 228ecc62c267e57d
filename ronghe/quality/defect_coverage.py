"""How many of an estate's injected defects left evidence in the warehouse.

`defect_coverage(settings, sources_dir)` reads `_truth/defects.csv` (CONTRACT.md
section 6) and looks for each defect in what the pipeline recorded:

- failing rows of quality checks (`ops.dq_failing_rows`, the latest run of each rule),
- rows the extractors quarantined, skipped as duplicates or superseded, and
  deliveries they refused or found incomplete (`ops.*`).

Defects are matched by *where* and *what*, never by their kind's name, so the
score holds on estates from other generators: a defect is caught when some
evidence holds every token of its `record_key` (split on `/ | : , ;`; dates
match as `YYYY-MM-DD` or `YYYYMMDD`; a label such as `line:` is dropped) and
its location is compatible with the defect's `location`: the same file or
folder (one path starts with the other, a re-send `_N` counting as its
delivery); for a defect located by table name
(`erp_price`), evidence from that table; for evidence from an API request,
one naming the file's entity and platform. Evidence aggregated over many rows
(a store-day, a dealer-item) has no location and matches by key alone.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ronghe.quality.connection import existing_tables, open_engine
from ronghe.settings import Settings

# Extractor tables whose rows are a verdict on a source row or delivery.
# (The ledger, file registry and extract state describe every load, not defects.)
# table -> (columns read, which rows are evidence)
OPS_EVIDENCE = {
    "quarantine": (("origin", "origin_line", "reason", "raw_text"), "true"),
    "skipped_rows": (("origin", "origin_line", "disposition", "detail"), "true"),
    "superseded_origins": (("origin", "superseded_by"), "true"),
    "rejected_deliveries": (("origin", "reason"), "true"),
    "pending_deliveries": (("origin",), "true"),
    "schema_drift": (("origin", "column_name", "change"), "true"),
    "control_totals": (
        ("origin", "origin_line", "measure", "declared", "computed", "status"),
        "status <> 'match'",
    ),
}
_KEY_SEPARATORS = re.compile(r"[/|:,;\s]+")
_KEY_LABEL = re.compile(r"(?i)(?<![a-z0-9_-])[a-z_]+[:=](?=\S)")
_VALUE_SEPARATORS = re.compile(r"[/|:,;\s\t\"'()=&?]+")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_DATE_HOUR = re.compile(r"^(20\d{6})\d{2}$")
_RESEND_SUFFIX = re.compile(r"_\d+(?=/|\.|$)")
_PATH_WORD = re.compile(r"\b[\w.-]+/[\w./-]+")
# `repeats line 7`, `repeats <origin> line 7`, `... version (<batch>, <origin> line 7)`
_REPEATED_LINE = re.compile(r"(?:(?:repeats|, ) ?(?P<origin>[^\s,()]+/\S+) )?line (?P<line>\d+)")


@dataclass(frozen=True)
class Evidence:
    source: str
    """Where the evidence is kept, e.g. `ops.quarantine` or a rule id."""
    locations: tuple[str, ...]
    tokens: frozenset[str]


def defect_coverage(settings: Settings, sources_dir: Path | str) -> dict[str, Any]:
    """{injected, caught, coverage, not_caught: [...], caught_by: {evidence source: n}}."""
    defects = _read_defects(Path(sources_dir) / "_truth" / "defects.csv")
    with open_engine(settings) as engine, engine.connect() as connection:
        evidence = list(_evidence(connection))
    by_token: dict[str, list[Evidence]] = defaultdict(list)
    for item in evidence:
        for token in item.tokens:
            by_token[token].append(item)
    not_caught = []
    caught_by: dict[str, int] = defaultdict(int)
    for defect in defects:
        found = _find(defect, by_token)
        if found is None:
            not_caught.append(defect)
        else:
            caught_by[found.source] += 1
    injected = len(defects)
    caught = injected - len(not_caught)
    return {
        "injected": injected,
        "caught": caught,
        "coverage": round(caught / injected, 4) if injected else 1.0,
        "not_caught": not_caught,
        "caught_by": dict(sorted(caught_by.items())),
    }


def _read_defects(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: defect coverage needs an estate's _truth/")
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def key_tokens(record_key: str) -> set[str]:
    """The tokens a record key is made of, normalised like evidence values.

    A label written before a value (`line:5`) names the value; only the value counts.
    """
    return {
        normalised
        for part in _KEY_SEPARATORS.split(_KEY_LABEL.sub("", record_key.strip()))
        if part
        for normalised in [_normalise(part)]
    }


def value_tokens(value: Any) -> set[str]:
    """Every token a value of evidence offers (whole, split, and as a date)."""
    if value is None:
        return set()
    if isinstance(value, Mapping):
        return {token for item in value.values() for token in value_tokens(item)}
    if isinstance(value, list | tuple):
        return {token for item in value for token in value_tokens(item)}
    text = str(value).strip()
    if not text:
        return set()
    tokens = {_normalise(text)}
    for part in _VALUE_SEPARATORS.split(text):
        if part:
            tokens.add(_normalise(part))
            tokens.update(_normalise(piece) for piece in re.split(r"[_.]", part) if piece)
            date = _ISO_DATE.match(part)
            if date:
                tokens.add("".join(date.groups()))
            hour = _DATE_HOUR.match(part)
            if hour:
                tokens.add(hour.group(1))
    date = _ISO_DATE.match(text)
    if date:
        tokens.add("".join(date.groups()))
    if isinstance(value, float) and value.is_integer():
        tokens.add(str(int(value)))
    return tokens


def _normalise(token: str) -> str:
    token = token.strip().strip("\"'").lower()
    date = _ISO_DATE.fullmatch(token)
    return "".join(date.groups()) if date else token


def _compatible(defect_location: str, evidence: Evidence) -> bool:
    wanted = _without_resend(defect_location.strip().rstrip("/"))
    if not wanted or not evidence.locations:
        return True
    for location in evidence.locations:
        have = _without_resend(location.strip().rstrip("/"))
        if have.startswith(wanted) or wanted.startswith(have):
            return True
        if "/" not in wanted:
            # a table name (`erp_price`, `raw.erp_price`): evidence from that table
            table = wanted.rsplit(".", 1)[-1].lower()
            if have.lower().rsplit("/", 1)[-1] == table:
                return True
        elif not _is_source_path(have):
            # an API request: it must name what the file under the source's folder
            # held (`ecommerce/MALL/orders.jsonl`: `MALL`, `orders`)
            names = {part.split(".", 1)[0].lower() for part in wanted.split("/")[1:]}
            if names <= value_tokens(have):
                return True
    return False


def _without_resend(path: str) -> str:
    """A delivery and its re-sends are one place (`20250301_2/` is `20250301/` sent again)."""
    return _RESEND_SUFFIX.sub("", path)


def _is_source_path(location: str) -> bool:
    return " " not in location and "?" not in location


def _find(defect: Mapping[str, str], by_token: Mapping[str, list[Evidence]]) -> Evidence | None:
    tokens = key_tokens(defect["record_key"])
    if not tokens or any(token not in by_token for token in tokens):
        return None
    rarest = min(tokens, key=lambda token: len(by_token[token]))
    for item in by_token[rarest]:
        if tokens <= item.tokens and _compatible(defect["location"], item):
            return item
    return None


def _evidence(connection: sa.Connection) -> Iterator[Evidence]:
    ops = existing_tables(connection, "ops")
    if "ops.dq_failing_rows" in ops:
        yield from _failing_rows(connection)
    for table, (columns, condition) in OPS_EVIDENCE.items():
        if f"ops.{table}" in ops:
            yield from _ops_rows(connection, table, columns, condition)
    if "ops.skipped_rows" in ops:
        yield from _repeated_originals(connection)


def _failing_rows(connection: sa.Connection) -> Iterator[Evidence]:
    """Failing rows of every rule's latest validation (a rule that passed since has none)."""
    rows = connection.execute(
        sa.text(
            "with latest as ("
            "  select rule_id, max(validated_at) as validated_at from ops.dq_results"
            "  group by rule_id"
            ") "
            "select f.rule_id, f.location, f.origin_line, f.row_data, r.dataset "
            "from ops.dq_failing_rows as f "
            "join ops.dq_results as r "
            "  on r.validation_id = f.validation_id and r.rule_id = f.rule_id "
            "join latest on latest.rule_id = r.rule_id and latest.validated_at = r.validated_at"
        )
    )
    for rule_id, location, origin_line, row_data, dataset in rows:
        data = json.loads(row_data) if isinstance(row_data, str) else row_data
        tokens = value_tokens(data) | value_tokens(location) | value_tokens(dataset)
        tokens |= value_tokens(origin_line)
        yield Evidence(rule_id, (location,) if location else (), frozenset(tokens))


def _ops_rows(
    connection: sa.Connection, table: str, columns: Iterable[str], condition: str
) -> Iterator[Evidence]:
    present = _columns(connection, "ops", table)
    wanted = [column for column in columns if column in present]
    if "origin" not in wanted:
        return
    statement = f"select {', '.join(wanted)} from ops.{table} where {condition}"
    for row in connection.execute(sa.text(statement)):
        values = dict(zip(wanted, row, strict=True))
        # the origin, and any other delivery named (`superseded by pos/S0001/20250301_2`)
        named = [str(values["origin"]), str(values.get("superseded_by") or "")]
        named += _PATH_WORD.findall(str(values.get("detail") or ""))
        locations = tuple(dict.fromkeys(location for location in named if location))
        yield Evidence(f"ops.{table}", locations, frozenset(value_tokens(values)))


def _repeated_originals(connection: sa.Connection) -> Iterator[Evidence]:
    """A skipped duplicate carries no key; the landed row it repeats does. Pair them."""
    from expectations.landing import streams_by_raw_table

    table_of = {stream: table for table, stream in streams_by_raw_table().items()}
    skipped = connection.execute(
        sa.text(
            "select source, stream, origin, origin_line, detail from ops.skipped_rows "
            "where disposition = 'duplicate' and detail is not null"
        )
    ).fetchall()
    wanted: dict[str, dict[tuple[str, int], list[tuple[str, int]]]] = defaultdict(dict)
    for source, stream, origin, origin_line, detail in skipped:
        match = _REPEATED_LINE.search(detail)
        table = table_of.get((source, stream))
        if match is None or table is None:
            continue
        original = (match.group("origin") or origin, int(match.group("line")))
        wanted[table].setdefault(original, []).append((origin, origin_line))
    raw_tables = existing_tables(connection, "raw")
    for table, originals in wanted.items():
        if f"raw.{table}" not in raw_tables:
            continue
        origins = sorted({origin for origin, _ in originals})
        for start in range(0, len(origins), 500):
            chunk = origins[start : start + 500]
            rows = connection.execute(
                sa.text(f"select * from raw.{table} where _origin in :origins").bindparams(
                    sa.bindparam("origins", expanding=True)
                ),
                {"origins": chunk},
            ).mappings()
            for row in rows:
                for origin, line in originals.get((row["_origin"], row["_origin_line"]), []):
                    tokens = value_tokens(dict(row)) | value_tokens(origin) | {str(line)}
                    yield Evidence("ops.skipped_rows", (origin,), frozenset(tokens))


def _columns(connection: sa.Connection, schema: str, table: str) -> set[str]:
    return set(
        connection.execute(
            sa.text(
                "select column_name from information_schema.columns "
                "where table_schema = :schema and table_name = :table"
            ),
            {"schema": schema, "table": table},
        ).scalars()
    )
