"""Stable member keys: which key each new cluster keeps, and what merged or split.

Rules (ARCHITECTURE rule 4):

- every existing key belongs to the new cluster holding most of its records
  (a tie goes to the cluster holding the key's oldest record);
- a cluster that several keys belong to keeps the **oldest key** (earliest
  minted; among keys minted in the same run, the one derived from the older
  record, which is the key a rebuild from nothing would derive); the others
  are retired with a pointer to it (a MERGE);
- records of a key that now sit in another cluster have split off (a SPLIT):
  the key stays with the larger, older part, the split-off part takes the key
  of its new cluster, or a new one;
- a cluster no key belongs to gets a new key, derived from its oldest record
  (so rebuilding the registry from nothing gives unchanged people the keys
  they had).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from ronghe.identity.records import RecordId


@dataclass(frozen=True)
class KeyEvent:
    kind: str
    """"MERGE": `other_key` retired into `member_key`; "SPLIT": records of
    `other_key` moved to `member_key`."""
    member_key: str
    other_key: str
    records: tuple[RecordId, ...]
    """The records that changed key."""


@dataclass(frozen=True)
class KeyAssignment:
    keys: dict[RecordId, str]
    minted: dict[str, RecordId]
    """New key -> the record it was derived from."""
    events: list[KeyEvent]


def mint_key(anchor: RecordId, salt: int = 0) -> str:
    """The key derived from a cluster's oldest record (salted when already taken)."""
    text = f"{anchor[0]}|{anchor[1]}" + (f"|{salt}" if salt else "")
    return "M" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:15].upper()


def assign_keys(
    record_ids: Sequence[RecordId],
    cluster_of: Sequence[int],
    age_order: Sequence[int],
    current: dict[RecordId, str],
    minted_at: dict[str, datetime],
    anchors: dict[str, RecordId] | None = None,
    issued: Collection[str] | None = None,
) -> KeyAssignment:
    """Keys for the new clusters.

    `age_order[i]` ranks record i by age (oldest first); `current` is each
    record's key before this run; `minted_at` tells every known key's age and
    `anchors` the record each key was derived from; `issued` is every key
    ever issued (default: those of `minted_at`), none of which a new key may be.
    """
    anchors = anchors or {}
    position = {rid: i for i, rid in enumerate(record_ids)}

    def seniority(key: str) -> tuple[datetime, int, str]:
        anchor = position.get(anchors.get(key, ("", "")))
        return (
            minted_at.get(key, datetime.max),
            age_order[anchor] if anchor is not None else len(age_order),
            key,
        )

    clusters: dict[int, list[int]] = defaultdict(list)
    for index, cluster in enumerate(cluster_of):
        clusters[cluster].append(index)
    key_members: dict[str, list[int]] = defaultdict(list)
    for index, rid in enumerate(record_ids):
        if rid in current:
            key_members[current[rid]].append(index)

    home = {key: _home(members, cluster_of, age_order) for key, members in key_members.items()}
    claimants: dict[int, list[str]] = defaultdict(list)
    for key, cluster in home.items():
        claimants[cluster].append(key)

    taken = set(minted_at if issued is None else issued)
    keys: dict[RecordId, str] = {}
    minted: dict[str, RecordId] = {}
    events: list[KeyEvent] = []
    for cluster in sorted(clusters):
        members = clusters[cluster]
        owners = sorted(claimants.get(cluster, ()), key=seniority)
        if owners:
            key = owners[0]
        else:
            anchor = record_ids[min(members, key=lambda i: age_order[i])]
            key = _fresh_key(anchor, taken)
            taken.add(key)
            minted[key] = anchor
        for index in members:
            keys[record_ids[index]] = key
        for retired in owners[1:]:
            moved = tuple(sorted(record_ids[i] for i in key_members[retired]))
            events.append(KeyEvent("MERGE", key, retired, moved))
        moved_by_key: dict[str, list[RecordId]] = defaultdict(list)
        for index in members:
            old = current.get(record_ids[index])
            if old is not None and home[old] != cluster:
                moved_by_key[old].append(record_ids[index])
        for old, moved_records in sorted(moved_by_key.items()):
            events.append(KeyEvent("SPLIT", key, old, tuple(sorted(moved_records))))
    return KeyAssignment(keys, minted, events)


def _home(members: list[int], cluster_of: Sequence[int], age_order: Sequence[int]) -> int:
    counts = Counter(cluster_of[i] for i in members)
    most = max(counts.values())
    tied = {cluster for cluster, count in counts.items() if count == most}
    oldest = min((i for i in members if cluster_of[i] in tied), key=lambda i: age_order[i])
    return cluster_of[oldest]


def _fresh_key(anchor: RecordId, taken: set[str]) -> str:
    salt = 0
    while (key := mint_key(anchor, salt)) in taken:
        salt += 1
    return key
