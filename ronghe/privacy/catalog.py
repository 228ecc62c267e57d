"""The classification of personal columns, as the dbt project declares it.

Every column that holds personal data carries `meta: {pii: true, pii_category: ...}`
in the dbt yml files (sources for `raw` and `identity`, models for every other
layer). A column whose name looks personal must carry an explicit decision:
`pii: true` with its category, or `pii: false` when it only looks personal
(a campaign's `name`, an already masked phone). `unclassified_columns` finds
the columns that have neither, so a new personal column cannot slip in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ronghe.settings import REPO_ROOT

DBT_MODELS_DIR = REPO_ROOT / "dbt_project" / "models"

CATEGORIES = frozenset(
    {
        "customer_id",  # a member card number or a platform buyer id: links rows to one person
        "name",
        "phone",
        "phone_masked",  # 138****8000: the form marketplaces already publish
        "email_masked",  # z***@example.com
        "name_masked",  # 张**
        "email",
        "online_identifier",  # WeChat union_id / open_id
        "date_of_birth",
        "demographic",  # gender
        "location",
        "address",
        "id_number",
    }
)
"""The categories `pii_category` may name (docs/privacy.md describes each)."""

MASKED_CATEGORIES = frozenset(category for category in CATEGORIES if category.endswith("_masked"))
"""Masked forms: safe for BI, yet still a trace of one person that erasure removes."""

MATCHING_CATEGORIES = frozenset({"customer_id", "phone", "email", "online_identifier"})
"""Categories precise enough to find a person's rows by value (names and birthdays are not)."""

# Column names that look personal, checked case-insensitively against the whole name.
PERSONAL_NAME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (category, re.compile(pattern, re.IGNORECASE))
    for category, pattern in (
        ("name", r"^(.*_)?(name|full_?name|real_?name|nick_?name)$|姓名|昵称"),
        ("phone", r"phone|mobile|^tel(ephone)?$|_tel$|手机|电话"),
        ("email", r"e_?mail|邮箱"),
        ("date_of_birth", r"birth|^dob$|生日"),
        ("online_identifier", r"union_?id|open_?id"),
        ("address", r"address|street|receiver|地址|收货"),
        ("id_number", r"id_?card|id_?number|identity_?no|passport|national_?id|身份证"),
        ("customer_id", r"member_card|card_no|buyer_id|会员卡"),
    )
)

# Names ending in `_name` that describe things, not people.
_THING_NAMES = re.compile(
    r"^(item|store|dealer|product|sku|series|model|brand|category(_l\d)?|campaign|"
    r"warehouse|carrier|channel|table|column|stream|source|platform|city|province|county|region|"
    r"file|task|dag|check|suite|rule|step|full_name_source)(_name)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ColumnClass:
    """The declared classification of one column."""

    pii: bool
    category: str | None


Classification = dict[tuple[str, str], dict[str, ColumnClass]]
"""(schema or "model", table or model name) -> column -> its classification."""


def looks_personal(column: str) -> str | None:
    """The category a column's name suggests, or None when it does not look personal."""
    if _THING_NAMES.match(column):
        return None
    for category, pattern in PERSONAL_NAME_PATTERNS:
        if pattern.search(column):
            return category
    return None


def load_classification(models_dir: Path = DBT_MODELS_DIR) -> Classification:
    """Every column's `pii` decision declared in the dbt project's yml files."""
    found: Classification = {}
    for path in sorted(models_dir.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for source in document.get("sources") or []:
            schema = source.get("schema") or source["name"]
            for table in source.get("tables") or []:
                _add_columns(found, (schema, table["name"]), table)
        for model in document.get("models") or []:
            _add_columns(found, ("model", model["name"]), model)
    return found


def _add_columns(found: Classification, key: tuple[str, str], node: Mapping[str, Any]) -> None:
    columns = found.setdefault(key, {})
    for column in node.get("columns") or []:
        meta = dict(column.get("meta") or {})
        meta.update((column.get("config") or {}).get("meta") or {})
        if "pii" in meta:
            category = meta.get("pii_category")
            columns[column["name"].lower()] = ColumnClass(bool(meta["pii"]), category)


def classification_of(
    classification: Classification, schema: str, table: str
) -> dict[str, ColumnClass]:
    """The declared columns of a warehouse relation (dbt models are found by their name)."""
    if (schema, table) in classification:
        return classification[(schema, table)]
    return classification.get(("model", table), {})


@dataclass(frozen=True)
class Finding:
    """A column that breaks the classification rules, and why."""

    schema: str
    table: str
    column: str
    problem: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}.{self.column}: {self.problem}"


def unclassified_columns(
    relations: Mapping[tuple[str, str], Iterable[str]], classification: Classification
) -> list[Finding]:
    """Columns that look personal but carry no `pii` decision, or name an unknown category."""
    findings = []
    for (schema, table), columns in sorted(relations.items()):
        declared = classification_of(classification, schema, table)
        for column in columns:
            decision = declared.get(column.lower())
            suggested = looks_personal(column)
            if decision is None and suggested is not None:
                findings.append(
                    Finding(schema, table, column, f"looks like {suggested} but has no meta.pii")
                )
            elif decision is not None and decision.pii and decision.category not in CATEGORIES:
                findings.append(
                    Finding(schema, table, column, f"unknown pii_category {decision.category!r}")
                )
    return findings


def exposed_columns(
    relations: Mapping[tuple[str, str], Iterable[str]],
    classification: Classification,
    open_schemas: Iterable[str],
) -> list[Finding]:
    """Columns of schemas BI tools read that hold personal data in the clear (`pii: true`)."""
    open_set = set(open_schemas)
    return _clear_personal_columns(
        {key: columns for key, columns in relations.items() if key[0] in open_set},
        classification,
        "in a schema BI reads",
    )


def uncontained_dimension_columns(
    relations: Mapping[tuple[str, str], Iterable[str]], classification: Classification
) -> list[Finding]:
    """Columns of unified dimensions that hold personal data in the clear (`pii: true`).

    Dimensions carry member keys and masked contacts only; the clear golden
    record stays in a restricted schema (`intermediate.int_member_golden_record`).
    """
    return _clear_personal_columns(
        {
            (schema, table): columns
            for (schema, table), columns in relations.items()
            if schema == CONTAINED_SCHEMA and table.startswith(DIMENSION_PREFIX)
        },
        classification,
        "in a unified dimension",
    )


def _clear_personal_columns(
    relations: Mapping[tuple[str, str], Iterable[str]],
    classification: Classification,
    where: str,
) -> list[Finding]:
    findings = []
    for (schema, table), columns in sorted(relations.items()):
        declared = classification_of(classification, schema, table)
        for column in columns:
            decision = declared.get(column.lower())
            if decision is not None and decision.pii:
                findings.append(Finding(schema, table, column, f"{decision.category} {where}"))
    return findings


OPEN_SCHEMAS = ("marts_candidate", "marts")
"""Schemas BI tools read: no column in them may hold personal data in the clear."""

CONTAINED_SCHEMA, DIMENSION_PREFIX = "unified", "dim_"
"""Unified dimensions (`unified.dim_*`) hold no personal data in the clear either."""

_CHECKED_SCHEMAS = ("raw", "identity", "staging", "intermediate", "unified", *OPEN_SCHEMAS)


def warehouse_relations(sink: Any) -> dict[tuple[str, str], list[str]]:
    """(schema, table) -> columns of every table and view in the layers that hold data."""
    marks = ", ".join("?" for _ in _CHECKED_SCHEMAS)
    relations: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in sink.fetch(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        f"WHERE table_schema IN ({marks}) ORDER BY table_schema, table_name, ordinal_position",
        _CHECKED_SCHEMAS,
    ):
        relations.setdefault((schema, table), []).append(column)
    return relations


def check_warehouse(sink: Any, classification: Classification | None = None) -> list[Finding]:
    """Every classification problem of a warehouse: unclassified look-alikes and exposures."""
    classification = classification or load_classification()
    relations = warehouse_relations(sink)
    return (
        unclassified_columns(relations, classification)
        + exposed_columns(relations, classification, OPEN_SCHEMAS)
        + uncontained_dimension_columns(relations, classification)
    )
