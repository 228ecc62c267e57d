"""Member matching end to end, in memory: candidate pairs, verdicts, clusters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ronghe.identity.blocking import candidate_pairs
from ronghe.identity.calibration import Calibration, calibrate
from ronghe.identity.clustering import Edge, Override, Resolution, resolve_clusters
from ronghe.identity.config import MemberRules
from ronghe.identity.records import MemberRecord
from ronghe.identity.rules import compare


@dataclass(frozen=True)
class MatchOutcome:
    resolution: Resolution
    edges: list[Edge]
    verdicts: Counter[str]
    """How many candidate pairs each rule (or conflict) decided."""
    placeholder_keys: dict[str, int]
    """Blocking keys shared by too many records to be evidence, with their counts."""
    calibration: Calibration


def match_members(
    records: Sequence[MemberRecord],
    overrides: Sequence[Override],
    rules: MemberRules,
    calibration: Calibration | None = None,
    previous_keys: Sequence[str | None] = (),
    placeholders: Collection[str] = (),
) -> MatchOutcome:
    """Match the records; `calibration` defaults to one measured on them, and
    `previous_keys` (each record's key before this run) keeps earlier attachments.
    `placeholders`: keys oversized in the whole estate when `records` is part of it."""
    blocking = candidate_pairs(records, rules.max_block_size, placeholders)
    calibration = calibration or calibrate(records, rules)
    edges: list[Edge] = []
    verdicts: Counter[str] = Counter()
    for left, right in blocking.pairs:
        verdict = compare(records[left], records[right], rules, calibration)
        if verdict is None:
            continue
        verdicts[f"{verdict.kind}:{verdict.rule}"] += 1
        edges.append(Edge(left, right, verdict))
    resolution = resolve_clusters(records, edges, overrides, rules, previous_keys)
    return MatchOutcome(resolution, edges, verdicts, blocking.oversized_keys, calibration)
