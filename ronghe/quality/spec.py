"""How a quality suite is written: checks on one table, each with a kind and a meaning.

Suites live as code in the top-level `expectations/` package, one module per
layer. A check wraps one Great Expectations expectation and says which *kind*
of rule it is; `config/ronghe.yml` (`quality.severity`) maps every kind to a
severity, `block` or `warn`, and may override single rules by id. Thresholds
come from the same file, so a reviewer reads every number in one place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from great_expectations.expectations.expectation import Expectation

Severity = Literal["block", "warn"]
SEVERITIES: tuple[Severity, ...] = ("block", "warn")
LAYERS = ("raw", "staging", "unified", "marts")
# GX's own severity field carries ours, so Data Docs show it too.
GX_SEVERITY = {"block": "critical", "warn": "warning"}
# The columns that locate a landed row in its source; every raw table has them.
ORIGIN_COLUMNS = ("_origin", "_origin_line")


@dataclass(frozen=True)
class Check:
    """One rule: a GX expectation, the kind of rule it is, and what it means."""

    rule: str
    """Short name, unique within its suite (`txn_id_required`); the rule id is `<suite>.<rule>`."""
    kind: str
    """The family of rule (`schema`, `business_rule` ...); config gives each kind a severity."""
    expectation: Expectation
    meaning: str
    """One sentence an auditor reads: what must hold, and why."""


@dataclass(frozen=True)
class Suite:
    """The checks on one table of one layer."""

    layer: str
    schema: str
    table: str
    checks: tuple[Check, ...]
    row_key: tuple[str, ...] = ORIGIN_COLUMNS
    """Columns that identify a failing row in the evidence (its origin, or its natural key)."""
    name: str = field(default="")
    """Defaults to `<layer>.<table>`; the GX suite, validation definition and checkpoint name."""

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"suite on {self.dataset}: unknown layer {self.layer!r}")
        if not self.name:
            object.__setattr__(self, "name", f"{self.layer}.{self.table}")
        rules = [check.rule for check in self.checks]
        if len(rules) != len(set(rules)):
            raise ValueError(f"suite {self.name}: rule names repeat: {sorted(rules)}")

    @property
    def dataset(self) -> str:
        """`schema.table`, the name of the table everywhere (GX asset, dbt, lineage)."""
        return f"{self.schema}.{self.table}"

    def rule_id(self, check: Check) -> str:
        return f"{self.name}.{check.rule}"


def severity_of(rule_id: str, kind: str, quality_config: Mapping[str, Any]) -> Severity:
    """The configured severity of one rule: its override, else its kind's severity."""
    overrides = quality_config.get("severity_overrides") or {}
    by_kind = quality_config.get("severity") or {}
    if rule_id in overrides:
        severity = overrides[rule_id]
    elif kind in by_kind:
        severity = by_kind[kind]
    else:
        raise KeyError(
            f"config quality.severity has no entry for the kind {kind!r} (rule {rule_id}); "
            "every kind of check must have a reviewed severity"
        )
    if severity not in SEVERITIES:
        raise ValueError(f"rule {rule_id}: severity {severity!r} is not one of {SEVERITIES}")
    return severity


def expectation_fingerprint(expectation: Expectation) -> dict[str, Any]:
    """The parts of an expectation that decide its verdict (no GX-generated ids)."""
    configuration = expectation.configuration.to_json_dict()
    configuration.pop("id", None)
    configuration.get("kwargs", {}).pop("batch_id", None)
    return configuration


def suite_version(suite: Suite, quality_config: Mapping[str, Any]) -> str:
    """A short hash of everything that decides the suite's verdicts, severities included."""
    body = [
        {
            "rule": suite.rule_id(check),
            "severity": severity_of(suite.rule_id(check), check.kind, quality_config),
            "expectation": expectation_fingerprint(check.expectation),
        }
        for check in suite.checks
    ]
    digest = hashlib.sha256(
        json.dumps({"dataset": suite.dataset, "checks": body}, sort_keys=True, default=str).encode()
    )
    return digest.hexdigest()[:12]
