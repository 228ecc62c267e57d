"""From pair verdicts to people: clusters that never contradict themselves.

Clusters grow by union-find, but a merge happens only when the merged cluster
stays consistent: at most one birth date, gender and union_id, and real names
that are all equivalent to each other. Transitive chains through a shared
phone therefore cannot glue a family together, whatever order edges come in.

Order of work (each step deterministic, ties broken by record order):

1. steward overrides: force-splits become cannot-links, force-merges merge;
2. deterministic matches, strongest rule first;
3. nameless clusters (marketplace accounts with nicknames, name-less
   customers) join the one named person their scored evidence points to, when
   exactly one person fits: the phone's holders are filtered by time, so a
   re-assigned number points to the holder of its time, and a phone shared by
   a family points to several people and is left for review; an attachment an
   earlier run made stays while its own evidence still clears the accept
   probability, so another person's new record does not move it;
4. the remaining scored pairs at or above the accept probability between two
   nameless accounts, or between two named people (equivalent names with the
   same birth date).

Scored evidence never puts two accounts on one online platform into one
person (steps 3 and 4): a platform binds a phone number to one account, and
only store members register twice (CONTRACT.md section 5), so a second
account on a shared phone is a relative's; such pairs go to review.

Pairs that could not merge, or scored between review and accept, go to the
review queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ronghe.identity.config import MemberRules
from ronghe.identity.names import Name, names_equivalent
from ronghe.identity.records import MemberRecord
from ronghe.identity.rules import CONFLICT, DETERMINISTIC, DETERMINISTIC_RULES, SCORED, Verdict

POS_SYSTEM = "POS_MEMBER"
"""Store members may register twice (CONTRACT.md section 5); online accounts are one per
person and platform, as a platform binds a phone number to one account."""
SAME_PLATFORM = "already holds an account on this platform"

_RULE_RANK = {rule: rank for rank, rule in enumerate(("override_merge", *DETERMINISTIC_RULES))}


@dataclass(frozen=True)
class Edge:
    left: int
    right: int
    verdict: Verdict


@dataclass(frozen=True)
class Override:
    override_id: str
    action: str
    """"MERGE" or "SPLIT"."""
    left: int
    right: int


@dataclass(frozen=True)
class ReviewItem:
    left: int
    right: int
    kind: str
    """The verdict's kind: scored pairs that end up contradicted leave the queue."""
    rule: str
    probability: float
    reason: str
    evidence: dict[str, Any]


@dataclass
class Resolution:
    cluster_of: list[int]
    """For each record, the smallest record index in its cluster."""
    matched_by: list[str]
    match_score: list[float | None]
    accepted: list[Edge] = field(default_factory=list)
    """Edges (and applied force-merges) that joined two clusters."""
    review: list[ReviewItem] = field(default_factory=list)
    overrides_applied: list[str] = field(default_factory=list)


@dataclass
class _Profile:
    members: list[int]
    names: list[Name]
    birth_dates: set[Any]
    genders: set[str]
    union_ids: set[str]
    forbidden: set[int]
    platforms: set[str]
    """Online platforms the cluster holds an account on."""


class ConstrainedClusters:
    """Union-find whose merges keep every cluster free of contradictions."""

    def __init__(self, records: Sequence[MemberRecord]) -> None:
        self.records = records
        self.parent = list(range(len(records)))
        # made when a record is first looked at: most records meet no other
        self.profiles: dict[int, _Profile] = {}

    def find(self, index: int) -> int:
        root = index
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[index] != root:
            self.parent[index], index = root, self.parent[index]
        return root

    def profile(self, index: int) -> _Profile:
        root = self.find(index)
        found = self.profiles.get(root)
        if found is None:
            # a root without a profile has never been merged: a cluster of one record
            record = self.records[root]
            found = self.profiles[root] = _Profile(
                members=[root],
                names=list(record.real_names),
                birth_dates={record.birth_date} if record.birth_date else set(),
                genders={record.gender} if record.gender else set(),
                union_ids=set(record.union_ids),
                forbidden=set(),
                platforms=set() if record.source_system == POS_SYSTEM else {record.source_system},
            )
        return found

    def forbid(self, left: int, right: int) -> None:
        self.profile(left).forbidden.add(right)
        self.profile(right).forbidden.add(left)

    def conflict(self, left: int, right: int) -> str | None:
        """Why the clusters of two records cannot be one person, or None."""
        a, b = self.profile(left), self.profile(right)
        if a.forbidden & set(b.members) or b.forbidden & set(a.members):
            return "steward_split"
        if len(a.birth_dates | b.birth_dates) > 1:
            return "birth_date_differs"
        if len(a.genders | b.genders) > 1:
            return "gender_differs"
        if len(a.union_ids | b.union_ids) > 1:
            return "union_id_differs"
        for name_a in a.names:
            for name_b in b.names:
                if names_equivalent(name_a, name_b) is None:
                    return "name_differs"
        return None

    def merge(self, left: int, right: int) -> None:
        a, b = self.find(left), self.find(right)
        if a == b:
            return
        if len(self.profile(a).members) < len(self.profile(b).members):
            a, b = b, a
        small = self.profiles.pop(b)
        big = self.profiles[a]
        self.parent[b] = a
        big.members += small.members
        big.names += [n for n in small.names if all(n.text != m.text for m in big.names)]
        big.birth_dates |= small.birth_dates
        big.genders |= small.genders
        big.union_ids |= small.union_ids
        big.forbidden |= small.forbidden
        big.platforms |= small.platforms

    def share_platform(self, left: int, right: int) -> bool:
        """Do the two clusters each hold an account on the same online platform?"""
        return bool(self.profile(left).platforms & self.profile(right).platforms)


def resolve_clusters(
    records: Sequence[MemberRecord],
    edges: Sequence[Edge],
    overrides: Sequence[Override],
    rules: MemberRules,
    previous_keys: Sequence[str | None] = (),
) -> Resolution:
    """Cluster the records; see the module docstring for the order of work.

    `previous_keys[i]` is record i's member key before this run (if any).
    """
    clusters = ConstrainedClusters(records)
    run = _Run(records, clusters, rules, previous_keys)
    for override in overrides:
        if override.action == "SPLIT":
            clusters.forbid(override.left, override.right)
    for override in overrides:
        if override.action == "MERGE":
            verdict = Verdict(
                DETERMINISTIC, "override_merge", 1.0, None, {"override": override.override_id}
            )
            run.accept(Edge(override.left, override.right, verdict))
    applied = [o.override_id for o in overrides]

    deterministic = sorted(
        (e for e in edges if e.verdict.kind == DETERMINISTIC),
        key=lambda e: (_RULE_RANK[e.verdict.rule], e.left, e.right),
    )
    for edge in deterministic:
        run.try_merge(edge)
    for edge in edges:
        if edge.verdict.kind == CONFLICT and edge.verdict.evidence.get("union_id"):
            run.queue(edge, "shared union_id with conflicting details")

    scored = [e for e in edges if e.verdict.kind == SCORED]
    run.attach_nameless(scored)
    remaining = sorted(
        (e for e in scored if e.verdict.probability >= rules.accept_probability),
        key=lambda e: (-e.verdict.probability, e.left, e.right),
    )
    for edge in remaining:
        # a nameless account joins a named person only through attach_nameless,
        # which insists on exactly one fitting person
        named = (bool(clusters.profile(edge.left).names), bool(clusters.profile(edge.right).names))
        if named[0] != named[1]:
            continue
        if clusters.share_platform(edge.left, edge.right):
            run.queue(edge, SAME_PLATFORM)
        else:
            run.try_merge(edge)
    for edge in scored:
        if (
            edge.verdict.probability >= rules.review_probability
            and clusters.find(edge.left) != clusters.find(edge.right)
            and clusters.conflict(edge.left, edge.right) is None
        ):
            run.queue(edge, "probability between review and accept")
    return run.result(applied)


class _Run:
    """The state of one clustering pass."""

    def __init__(
        self,
        records: Sequence[MemberRecord],
        clusters: ConstrainedClusters,
        rules: MemberRules,
        previous_keys: Sequence[str | None],
    ) -> None:
        self.records = records
        self.clusters = clusters
        self.rules = rules
        self.previous_keys = previous_keys
        self.accepted: list[Edge] = []
        self.review: dict[tuple[int, int], ReviewItem] = {}
        self.holders = _PhoneHolders(records, clusters, rules)

    def accept(self, edge: Edge) -> None:
        if self.clusters.find(edge.left) != self.clusters.find(edge.right):
            self.clusters.merge(edge.left, edge.right)
        self.accepted.append(edge)

    def try_merge(self, edge: Edge) -> bool:
        if self.clusters.find(edge.left) == self.clusters.find(edge.right):
            self.accepted.append(edge)
            return True
        reason = self.clusters.conflict(edge.left, edge.right)
        if reason is not None:
            # strong evidence against the rest of a cluster needs a steward;
            # weak evidence that is contradicted is simply outweighed
            if edge.verdict.kind == DETERMINISTIC:
                self.queue(edge, f"would merge records that conflict: {reason}")
            return False
        self.accept(edge)
        return True

    def queue(self, edge: Edge, reason: str) -> None:
        key = (min(edge.left, edge.right), max(edge.left, edge.right))
        if key not in self.review:
            verdict = edge.verdict
            self.review[key] = ReviewItem(
                key[0],
                key[1],
                verdict.kind,
                verdict.rule,
                verdict.probability,
                reason,
                dict(verdict.evidence),
            )

    def attach_nameless(self, scored: Sequence[Edge]) -> None:
        by_record: dict[int, list[Edge]] = defaultdict(list)
        for edge in scored:
            by_record[edge.left].append(edge)
            by_record[edge.right].append(edge)
        nameless_roots = sorted(
            {self.clusters.find(i) for i in by_record if not self.clusters.profile(i).names},
            key=lambda root: min(self.clusters.profile(root).members),
        )
        for root in nameless_roots:
            members = list(self.clusters.profile(root).members)
            edges = {id(e): e for m in members for e in by_record.get(m, ())}.values()
            self._attach(members, sorted(edges, key=lambda e: (e.left, e.right)))

    def _attach(self, members: list[int], edges: list[Edge]) -> None:
        inside = set(members)
        best: dict[int, Edge] = {}
        # people who already hold an account on this record's platform are left
        # to a steward: on a shared phone they are the relative, not the holder
        held: dict[int, Edge] = {}
        for edge in edges:
            other = edge.right if edge.left in inside else edge.left
            if other in inside:
                continue
            target = self.clusters.find(other)
            if not self.clusters.profile(target).names:
                continue
            if self.clusters.conflict(members[0], other) is not None:
                continue
            if not self.holders.compatible(members, target, edge.verdict.via):
                continue
            pool = held if self.clusters.share_platform(members[0], other) else best
            current = pool.get(target)
            if current is None or edge.verdict.probability > current.verdict.probability:
                pool[target] = edge
        if not best and not held:
            return
        # An attachment made by an earlier run stays while its own evidence
        # still clears the accept probability: another person's new record
        # (a family member registering the same phone) does not move it.
        kept = [
            edge
            for edge in best.values()
            if edge.verdict.probability >= self.rules.accept_probability
            and self._were_together(edge.left, edge.right)
        ]
        if kept:
            self.accept(max(kept, key=lambda e: (e.verdict.probability, -e.left, -e.right)))
            return
        # Exactly one of the fitting people (or none) is this record's: each
        # candidate's posterior is its odds over one plus the sum of all odds.
        odds = {target: _odds(edge.verdict.probability) for target, edge in best.items()}
        top = max(best, key=lambda target: (odds[target], -target), default=None)
        posterior = 0.0 if top is None else odds[top] / (1.0 + sum(odds.values()))
        if top is not None and posterior >= self.rules.accept_probability:
            edge = best[top]
            verdict = edge.verdict
            evidence = {**verdict.evidence, "candidates": len(best)}
            self.accept(
                Edge(
                    edge.left,
                    edge.right,
                    replace(verdict, probability=posterior, evidence=evidence),
                )
            )
            return
        fitting = [
            e
            for e in (*best.values(), *held.values())
            if e.verdict.probability >= self.rules.review_probability
        ]
        if len(best) + len(held) > 1:
            reason = f"{len(best) + len(held)} people fit this record's evidence"
        elif held:
            reason = SAME_PLATFORM
        else:
            reason = "probability between review and accept"
        for edge in sorted(fitting, key=lambda e: (e.left, e.right)):
            self.queue(edge, reason)

    def _were_together(self, left: int, right: int) -> bool:
        if not self.previous_keys:
            return False
        key = self.previous_keys[left]
        return key is not None and key == self.previous_keys[right]

    def result(self, applied: list[str]) -> Resolution:
        count = len(self.records)
        roots = [self.clusters.find(i) for i in range(count)]
        smallest: dict[int, int] = {}
        for index, root in enumerate(roots):
            smallest.setdefault(root, index)
        matched_by = ["singleton"] * count
        match_score: list[float | None] = [None] * count
        ranks: list[tuple[int, float]] = [(len(_RULE_RANK) + 1, 0.0)] * count
        for edge in self.accepted:
            verdict = edge.verdict
            rank = (_RULE_RANK.get(verdict.rule, len(_RULE_RANK)), -verdict.probability)
            for index in (edge.left, edge.right):
                if rank < ranks[index]:
                    ranks[index] = rank
                    matched_by[index] = verdict.rule
                    match_score[index] = verdict.probability
        review = [
            item
            for item in self.review.values()
            if self.clusters.find(item.left) != self.clusters.find(item.right)
            and (item.kind != SCORED or self.clusters.conflict(item.left, item.right) is None)
        ]
        return Resolution(
            cluster_of=[smallest[root] for root in roots],
            matched_by=matched_by,
            match_score=match_score,
            accepted=self.accepted,
            review=sorted(review, key=lambda item: (item.left, item.right)),
            overrides_applied=applied,
        )


class _PhoneHolders:
    """Who held a phone when: the time test that keeps re-assigned numbers apart.

    The holders of a phone (or of a mask key) are the named clusters with a
    record carrying it. A holder's tenure runs from the phone's first use to
    the last activity of its records; when a later holder first appears at
    least `recycled_phone_gap_days` after an earlier one went quiet, the number
    changed hands there and the earlier tenure ends. Holders whose activity
    overlaps (a family) share the number for the whole time.
    """

    def __init__(
        self, records: Sequence[MemberRecord], clusters: ConstrainedClusters, rules: MemberRules
    ) -> None:
        self.records = records
        self.clusters = clusters
        self.gap = timedelta(days=rules.recycled_phone_gap_days)
        self.tolerance = timedelta(days=rules.tenure_tolerance_days)
        self.by_phone: dict[str, list[int]] = defaultdict(list)
        self.by_mask: dict[str, list[int]] = defaultdict(list)
        for index, record in enumerate(records):
            for e164, mask in record.phone_masks.items():
                self.by_phone[e164].append(index)
                self.by_mask[mask].append(index)

    def compatible(self, members: list[int], target: int, via: tuple[str, str] | None) -> bool:
        if via is None:
            return True
        kind, value = via
        used = self._span_used(members, kind, value)
        tenures = self._tenures(kind, value)
        if used is None or target not in tenures:
            return True
        start, end = tenures[target]
        return used[1] >= start - self.tolerance and used[0] <= end + self.tolerance

    def _span_used(
        self, members: list[int], kind: str, value: str
    ) -> tuple[datetime, datetime] | None:
        spans = []
        for index in members:
            record = self.records[index]
            if kind == "phone" and value in record.phones:
                spans.append(record.phones[value])
            elif kind == "mask":
                if value in record.masks:
                    spans.append(record.masks[value])
                spans += [
                    record.phones[e164]
                    for e164, mask in record.phone_masks.items()
                    if mask == value
                ]
        if not spans:
            return None
        return (min(s[0] for s in spans), max(s[1] for s in spans))

    def _tenures(self, kind: str, value: str) -> dict[int, tuple[datetime, datetime]]:
        index = self.by_phone if kind == "phone" else self.by_mask
        held: dict[int, list[datetime]] = {}
        for record_index in index.get(value, ()):
            root = self.clusters.find(record_index)
            if not self.clusters.profile(root).names:
                continue
            record = self.records[record_index]
            first = min(
                span[0] for e164, span in record.phones.items() if _fits(e164, kind, value, record)
            )
            last = max(filter(None, (record.last_seen, first)))
            span = held.setdefault(root, [first, last])
            span[0], span[1] = min(span[0], first), max(span[1], last)
        tenures = {}
        for root, (first, last) in held.items():
            start, end = datetime.min + self.tolerance, datetime.max - self.tolerance
            for other, (other_first, other_last) in held.items():
                if other == root:
                    continue
                if other_first - last >= self.gap:
                    end = min(end, other_first)
                if first - other_last >= self.gap:
                    start = max(start, first)
            tenures[root] = (start, end)
        return tenures


def _fits(e164: str, kind: str, value: str, record: MemberRecord) -> bool:
    if kind == "phone":
        return e164 == value
    return record.phone_masks[e164] == value


def _odds(probability: float) -> float:
    return probability / (1.0 - probability) if probability < 1.0 else float("inf")
