"""Which records a run must re-match: the components of the blocking graph new evidence touches.

Two records can only influence each other's cluster when they are joined,
directly or through other records, by blocking keys that are not
placeholders (every candidate pair, every phone holder compared in a
tenure, and every conflict lies inside such a component), or by a steward
override. Clustering is deterministic and ordered by record id, so
re-clustering whole components on their own gives the result a full
re-resolution would give; everything outside them keeps its keys as they
are. A record is *touched* when its input rows changed (new, changed, or
gone); the run re-matches every component that a touched record belongs to
now or belonged to before, including components that a key growing past
`max_block_size` (or shrinking back under it) splits or joins, and the
components of every record a steward override names (overrides are few, and
a new or revoked one must take effect).

The plan is only made when the cache was written under the same
configuration; otherwise the run resolves everything (and refills the cache).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from ronghe.identity.blocking import blocking_keys
from ronghe.identity.evidence import FINGERPRINTS, from_json
from ronghe.identity.records import MemberRecord, RecordId, build_records
from ronghe.identity.store import Warehouse

_IDS = ["source_system", "source_record_id"]
SCOPE = "identity_scope"
"""Temporary table: the ids of the records a run re-matches (filled by `plan_scope`)."""


@dataclass(frozen=True)
class Scope:
    changed: list[MemberRecord]
    """Records whose input rows are new or changed, normalised afresh."""
    removed: list[RecordId]
    """Records in the cache that are no longer in the inputs."""
    records: list[MemberRecord]
    """Every record of the components to re-match (changed ones included), sorted by id."""


def plan_scope(
    warehouse: Warehouse,
    config_hash: str,
    max_block_size: int,
    inputs: dict[str, str],
    default_region: str,
) -> Scope | None:
    """The records this run must re-match, or None when the cache cannot be trusted."""
    cache = warehouse.query(
        "SELECT count(*) AS n, min(config_hash) AS low, max(config_hash) AS high "
        "FROM identity.member_evidence"
    )
    count, low, high = cache.iloc[0]
    if not int(count) or low != config_hash or high != config_hash:
        return None
    changed_ids = _ids(
        warehouse,
        f"SELECT f.source_system, f.source_record_id FROM {FINGERPRINTS} f "
        "LEFT JOIN identity.member_evidence e ON e.source_system = f.source_system "
        "AND e.source_record_id = f.source_record_id "
        "WHERE e.fingerprint IS NULL OR e.fingerprint <> f.fingerprint",
    )
    removed = _ids(
        warehouse,
        f"SELECT e.source_system, e.source_record_id FROM identity.member_evidence e "
        f"LEFT JOIN {FINGERPRINTS} f ON e.source_system = f.source_system "
        "AND e.source_record_id = f.source_record_id WHERE f.source_system IS NULL",
    )
    changed = _read_changed(warehouse, changed_ids, inputs, default_region)
    touched = set(changed_ids) | set(removed)

    # every block a touched record is (or was) in, with its members before and after
    _load_ids(warehouse, "identity_touched", touched)
    old_rows = warehouse.query(
        "SELECT b.block_key, b.source_system, b.source_record_id FROM identity.member_blocks b "
        "JOIN (SELECT DISTINCT o.block_key FROM identity.member_blocks o JOIN identity_touched t "
        "ON o.source_system = t.source_system AND o.source_record_id = t.source_record_id) k "
        "ON b.block_key = k.block_key"
    )
    new_keys = {key: record.record_id for record in changed for key in blocking_keys(record)}
    _load_keys(warehouse, set(new_keys) - set(old_rows["block_key"]))
    extra_rows = warehouse.query(
        "SELECT b.block_key, b.source_system, b.source_record_id FROM identity.member_blocks b "
        "JOIN identity_block_keys k ON b.block_key = k.block_key"
    )
    before: dict[str, set[RecordId]] = defaultdict(set)
    for key, system, record_id in pd.concat([old_rows, extra_rows]).itertuples(
        index=False, name=None
    ):
        before[str(key)].add((str(system), str(record_id)))
    after = {key: members - touched for key, members in before.items()}
    for record in changed:
        for key in blocking_keys(record):
            after.setdefault(key, set()).add(record.record_id)
    seeds = set(changed_ids)
    for key in before.keys() | after.keys():
        old, new = before.get(key, set()), after.get(key, set())
        if len(old) <= max_block_size or len(new) <= max_block_size:
            seeds |= new
    overrides = warehouse.query(
        "SELECT left_source_system, left_source_record_id, right_source_system, "
        "right_source_record_id FROM identity.overrides"
    )
    pairs = [((str(a), str(b)), (str(c), str(d))) for a, b, c, d in overrides.itertuples(
        index=False, name=None
    )]  # fmt: skip
    # a steward's decision (new, active or revoked) is re-applied to its records every run
    for left, right in pairs:
        seeds |= {left, right}
    seeds -= set(removed)

    cached = _components(warehouse, seeds, pairs)
    records = {r.record_id: r for r in changed}
    for record_id, text in cached.items():
        if record_id not in records and record_id not in touched:
            records[record_id] = from_json(record_id, text)
    _load_ids(warehouse, SCOPE, set(records))
    return Scope(changed, removed, [records[rid] for rid in sorted(records)])


def _components(
    warehouse: Warehouse,
    seeds: set[RecordId],
    pairs: list[tuple[RecordId, RecordId]],
) -> dict[RecordId, str]:
    """Cached evidence of every record in the seeds' components, closed over overrides."""
    found: dict[RecordId, str] = {}
    pending = set(seeds)
    while pending:
        _load_ids(warehouse, "identity_seeds", pending)
        frame = warehouse.query(
            "SELECT e.source_system, e.source_record_id, e.evidence "
            "FROM identity.member_evidence e WHERE e.component IN (SELECT c.component "
            "FROM identity.member_evidence c JOIN identity_seeds s "
            "ON c.source_system = s.source_system AND c.source_record_id = s.source_record_id)"
        )
        for system, record_id, text in frame.itertuples(index=False, name=None):
            found[(str(system), str(record_id))] = str(text)
        inside = found.keys() | seeds
        pending = {
            other
            for left, right in pairs
            for one, other in ((left, right), (right, left))
            if one in inside and other not in inside
        }
        seeds |= pending
    return found


def _read_changed(
    warehouse: Warehouse, ids: list[RecordId], inputs: dict[str, str], region: str
) -> list[MemberRecord]:
    _load_ids(warehouse, "identity_changed", ids)
    frames = [
        warehouse.query(
            f"SELECT i.* FROM {inputs[name]} i JOIN identity_changed c "
            "ON i.source_system = c.source_system AND i.source_record_id = c.source_record_id"
        )
        for name in ("member_records", "member_contacts")
    ]
    return build_records(frames[0], frames[1], region)


def _ids(warehouse: Warehouse, sql: str) -> list[RecordId]:
    frame = warehouse.query(sql)
    return sorted((str(a), str(b)) for a, b in frame.itertuples(index=False, name=None))


def _load_ids(warehouse: Warehouse, table: str, ids: set[RecordId] | list[RecordId]) -> None:
    warehouse.execute(f"DROP TABLE IF EXISTS {table}")
    warehouse.execute(
        f"CREATE TEMPORARY TABLE {table} (source_system VARCHAR, source_record_id VARCHAR)"
    )
    warehouse.append(table, pd.DataFrame(sorted(ids), columns=_IDS))


def _load_keys(warehouse: Warehouse, keys: set[str]) -> None:
    warehouse.execute("DROP TABLE IF EXISTS identity_block_keys")
    warehouse.execute("CREATE TEMPORARY TABLE identity_block_keys (block_key VARCHAR)")
    warehouse.append("identity_block_keys", pd.DataFrame(sorted(keys), columns=["block_key"]))
