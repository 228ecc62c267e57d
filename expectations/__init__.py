"""Great Expectations suites as code, one module per layer.

Each module exposes `suites(config) -> list[Suite]`, built from the reviewed
configuration (`config/ronghe.yml`: thresholds in `quality` and
`business_rules`). `ronghe.quality.run_quality_gate` runs them as GX
checkpoints; docs/decisions/quality.md says what GX checks and what dbt tests
own instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from expectations import identity, landing, marts, raw, rules, staging
from ronghe.quality.spec import Suite

LAYER_MODULES = (raw, landing, staging, identity, rules, marts)


def all_suites(config: Mapping[str, Any]) -> list[Suite]:
    """Every suite, in layer order; suite names are unique."""
    suites = [suite for module in LAYER_MODULES for suite in module.suites(config)]
    names = [suite.name for suite in suites]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"quality suite names repeat: {duplicates}")
    return suites
