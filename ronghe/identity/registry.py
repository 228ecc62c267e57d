"""The persistent key registry in schema `identity`: read its state, write a run's changes.

Nothing here deletes history: a record's key change closes its current
`member_xref` row (valid_to) and opens a new one; a merged key is retired
with a pointer; review items are closed, not removed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from ronghe.identity.clustering import Edge, Resolution, ReviewItem
from ronghe.identity.config import IdentityConfig
from ronghe.identity.keys import KeyAssignment, KeyEvent
from ronghe.identity.records import MemberRecord, RecordId
from ronghe.identity.store import Warehouse, chunks


@dataclass(frozen=True)
class RegistryState:
    current: dict[RecordId, tuple[str, str, float | None]]
    """Record -> (member_key, matched_by, match_score) in force."""
    minted_at: dict[str, datetime]
    """Every key ever issued (active or retired) -> when; with a scope, the keys of its records."""
    anchors: dict[str, RecordId]
    """Those keys -> the record each was derived from."""
    issued: frozenset[str]
    """Every key ever issued: a new key must differ from all of them."""


def load_state(warehouse: Warehouse, scope: str | None = None) -> RegistryState:
    """The registry as it stands; with `scope` (a table of record ids), only what concerns
    those records, which is all a run re-matching only them needs."""
    where = "WHERE x.valid_to IS NULL"
    if scope is not None:
        where += (
            f" AND EXISTS (SELECT 1 FROM {scope} s WHERE s.source_system = x.source_system "
            "AND s.source_record_id = x.source_record_id)"
        )
    xref = warehouse.query(
        "SELECT x.source_system, x.source_record_id, x.member_key, x.matched_by, x.match_score "
        f"FROM identity.member_xref x {where}"
    )
    keys = warehouse.query(
        "SELECT k.member_key, k.minted_at, k.anchor_source_system, k.anchor_source_record_id "
        "FROM identity.member_keys k"
        + (
            ""
            if scope is None
            else f" WHERE k.member_key IN (SELECT x.member_key FROM identity.member_xref x {where})"
        )
    )
    current = {
        (str(system), str(record_id)): (
            str(key),
            str(matched_by),
            None if pd.isna(score) else float(score),
        )
        for system, record_id, key, matched_by, score in xref.itertuples(index=False, name=None)
    }
    minted_at = {
        str(key): pd.Timestamp(minted).to_pydatetime()
        for key, minted, _, _ in keys.itertuples(index=False, name=None)
    }
    anchors = {
        str(key): (str(system), str(record_id))
        for key, _, system, record_id in keys.itertuples(index=False, name=None)
    }
    if scope is None:
        issued = frozenset(minted_at)
    else:
        every = warehouse.query("SELECT member_key FROM identity.member_keys")["member_key"]
        issued = frozenset(every.astype(str).tolist())
    return RegistryState(current, minted_at, anchors, issued)


def write_members(
    warehouse: Warehouse,
    run_id: str,
    now: datetime,
    records: Sequence[MemberRecord],
    resolution: Resolution,
    assignment: KeyAssignment,
    state: RegistryState,
    config: IdentityConfig,
) -> dict[str, int]:
    """Apply one run's member results; returns counts for the run summary."""
    record_ids = [r.record_id for r in records]
    index_of = {rid: i for i, rid in enumerate(record_ids)}

    closed, opened, rescored = [], [], []
    for index, rid in enumerate(record_ids):
        key = assignment.keys[rid]
        matched_by, score = resolution.matched_by[index], resolution.match_score[index]
        old = state.current.get(rid)
        if old is None or old[0] != key:
            if old is not None:
                closed.append(rid)
            opened.append((rid[0], rid[1], key, matched_by, score, now, None, run_id))
        elif (old[1], old[2]) != (matched_by, score):
            rescored.append((rid[0], rid[1], matched_by, score))
    _close_xref(warehouse, closed, now)
    _rescore_xref(warehouse, rescored, run_id)
    warehouse.append(
        "identity.member_xref",
        pd.DataFrame(
            opened,
            columns=[
                "source_system", "source_record_id", "member_key", "matched_by",
                "match_score", "valid_from", "valid_to", "run_id",
            ],
        ).astype({"valid_to": "datetime64[us]", "match_score": "float64"}),
    )  # fmt: skip

    minted = pd.DataFrame(
        [
            (key, "ACTIVE", None, anchor[0], anchor[1], now, run_id, None, None)
            for key, anchor in sorted(assignment.minted.items())
        ],
        columns=[
            "member_key", "status", "merged_into", "anchor_source_system",
            "anchor_source_record_id", "minted_at", "minted_run_id", "retired_at", "retired_run_id",
        ],
    ).astype({"retired_at": "datetime64[us]"})  # fmt: skip
    warehouse.append("identity.member_keys", minted)

    merges = [e for e in assignment.events if e.kind == "MERGE"]
    _retire_keys(warehouse, merges, now, run_id)
    _log_events(
        warehouse, run_id, now, assignment.events, resolution, records, index_of, assignment, config
    )
    return {
        "records": len(records),
        "members": len(set(assignment.keys.values())),
        "keys_minted": len(assignment.minted),
        "merges": len(merges),
        "splits": sum(1 for e in assignment.events if e.kind == "SPLIT"),
        "records_rekeyed": len(closed),
        "records_new": len(opened) - len(closed),
    }


def _close_xref(warehouse: Warehouse, closed: list[RecordId], now: datetime) -> None:
    """End the current assignment of records that changed key."""
    frame = pd.DataFrame(closed, columns=["source_system", "source_record_id"])
    _update_from(
        warehouse, frame, "valid_to = ?", (now,),
    )  # fmt: skip


def _retire_keys(warehouse: Warehouse, merges: list[KeyEvent], now: datetime, run_id: str) -> None:
    """Retire merged keys, each pointing to the key that absorbed it, in one statement."""
    if not merges:
        return
    frame = pd.DataFrame(
        [(e.other_key, e.member_key) for e in merges], columns=["member_key", "merged_into"]
    )
    warehouse.execute(
        "CREATE TEMPORARY TABLE identity_retired (member_key VARCHAR, merged_into VARCHAR)"
    )
    try:
        warehouse.append("identity_retired", frame)
        warehouse.execute(
            "UPDATE identity.member_keys SET status = 'RETIRED', merged_into = r.merged_into, "
            "retired_at = ?, retired_run_id = ? FROM identity_retired r "
            "WHERE identity.member_keys.member_key = r.member_key",
            (now, run_id),
        )
    finally:
        warehouse.execute("DROP TABLE identity_retired")


def _rescore_xref(warehouse: Warehouse, rescored: list[tuple], run_id: str) -> None:
    """Record a new rule or score for records whose key did not change."""
    frame = pd.DataFrame(
        rescored, columns=["source_system", "source_record_id", "matched_by", "match_score"]
    ).astype({"match_score": "float64"})
    _update_from(
        warehouse, frame,
        "matched_by = c.matched_by, match_score = c.match_score, run_id = ?", (run_id,),
    )  # fmt: skip


def _update_from(
    warehouse: Warehouse, frame: pd.DataFrame, assignments: str, params: tuple
) -> None:
    """UPDATE the current xref rows of the records in `frame` (joined as `c`) in one statement."""
    if frame.empty:
        return
    columns = ", ".join(
        f"{name} {'DOUBLE PRECISION' if name == 'match_score' else 'VARCHAR'}"
        for name in frame.columns
    )
    warehouse.execute(f"CREATE TEMPORARY TABLE identity_changes ({columns})")
    try:
        warehouse.append("identity_changes", frame)
        warehouse.execute(
            f"UPDATE identity.member_xref SET {assignments} FROM identity_changes c "
            "WHERE identity.member_xref.valid_to IS NULL "
            "AND c.source_system = identity.member_xref.source_system "
            "AND c.source_record_id = identity.member_xref.source_record_id",
            params,
        )
    finally:
        warehouse.execute("DROP TABLE identity_changes")


def _log_events(
    warehouse: Warehouse,
    run_id: str,
    now: datetime,
    events: Sequence[KeyEvent],
    resolution: Resolution,
    records: Sequence[MemberRecord],
    index_of: dict[RecordId, int],
    assignment: KeyAssignment,
    config: IdentityConfig,
) -> None:
    """One log row per merge or split, with the edges that explain it."""
    if not events:
        return
    members_of: dict[str, set[int]] = defaultdict(set)
    for rid, key in assignment.keys.items():
        members_of[key].add(index_of[rid])
    edges_of: dict[int, list[Edge]] = defaultdict(list)
    for edge in resolution.accepted:
        edges_of[edge.left].append(edge)
        edges_of[edge.right].append(edge)
    rows = []
    for sequence, event in enumerate(events, start=1):
        moved = {index_of[rid] for rid in event.records if rid in index_of}
        target = members_of[event.member_key] - moved
        edges = _edges_between(edges_of, moved, target) if event.kind == "MERGE" else []
        rules = sorted({e.verdict.rule for e in edges})
        if event.kind == "MERGE":
            reason = "merged on " + (
                ", ".join(rules) if rules else "evidence through other records"
            )
        else:
            reason = "records no longer match the rest of their former key's cluster"
        evidence = {
            "edges": [_edge_json(e, records) for e in edges[:20]],
            "edges_total": len(edges),
        }
        scores = [e.verdict.probability for e in edges]
        rows.append(
            (
                f"{run_id}-{sequence:06d}", now, run_id, event.kind, event.member_key,
                event.other_key, len(event.records),
                json.dumps([list(r) for r in event.records], ensure_ascii=False),
                reason, min(scores) if scores else None,
                json.dumps(evidence, ensure_ascii=False, default=str),
                config.model_version, config.config_hash,
            )
        )  # fmt: skip
    frame = pd.DataFrame(
        rows,
        columns=[
            "event_id", "event_at", "run_id", "event_type", "member_key", "other_key",
            "records_moved", "record_ids", "reason", "match_score", "evidence",
            "model_version", "config_hash",
        ],
    ).astype({"match_score": "float64"})  # fmt: skip
    warehouse.append("identity.member_merge_log", frame)


def _edges_between(edges_of: dict[int, list[Edge]], left: set[int], right: set[int]) -> list[Edge]:
    """The accepted edges joining a record in `left` to one in `right`."""
    found = {
        id(edge): edge
        for index in left
        for edge in edges_of.get(index, ())
        if (edge.right if edge.left == index else edge.left) in right
    }
    return sorted(found.values(), key=lambda edge: (edge.left, edge.right))


def _edge_json(edge: Edge, records: Sequence[MemberRecord]) -> dict[str, Any]:
    return {
        "left": list(records[edge.left].record_id),
        "right": list(records[edge.right].record_id),
        "rule": edge.verdict.rule,
        "probability": round(edge.verdict.probability, 6),
        "evidence": edge.verdict.evidence,
    }


REVIEW_COLUMNS = [
    "left_source_system", "left_source_record_id", "right_source_system",
    "right_source_record_id", "rule", "probability", "reason", "evidence",
    "status", "first_queued_at", "last_run_id", "closed_at",
]  # fmt: skip
PAIR_COLUMNS = REVIEW_COLUMNS[:4]


def write_review_queue(
    warehouse: Warehouse,
    run_id: str,
    now: datetime,
    items: Sequence[ReviewItem],
    records: Sequence[MemberRecord],
    scope: str | None = None,
) -> int:
    """Open the pairs newly in doubt, refresh those still in doubt, close the rest;
    returns how many pairs are open.

    The open part of the queue is rewritten (a pair still in doubt keeps when
    it was first queued); pairs no longer in doubt stay as CLOSED rows. With
    `scope` (a table of the record ids this run re-matched), only open pairs
    touching those records are rewritten; the others stay as they are.
    """
    touching = ""
    if scope is not None:
        touching = (
            " AND ("
            + " OR ".join(
                f"EXISTS (SELECT 1 FROM {scope} s WHERE "
                f"s.source_system = identity.review_queue.{side}_source_system AND "
                f"s.source_record_id = identity.review_queue.{side}_source_record_id)"
                for side in ("left", "right")
            )
            + ")"
        )
    existing = warehouse.query(
        f"SELECT {', '.join(REVIEW_COLUMNS)} FROM identity.review_queue "
        f"WHERE status = 'OPEN'{touching}"
    )
    previous = {
        tuple(map(str, row[:4])): row for row in existing.itertuples(index=False, name=None)
    }
    current = {}
    for item in items:
        left, right = records[item.left].record_id, records[item.right].record_id
        current[(*left, *right)] = item
    rows = []
    for pair, item in sorted(current.items()):
        first_queued = previous[pair][9] if pair in previous else now
        evidence = json.dumps(item.evidence, ensure_ascii=False)
        rows.append((*pair, item.rule, item.probability, item.reason, evidence, "OPEN",
                     first_queued, run_id, None))  # fmt: skip
    for pair in sorted(previous.keys() - current.keys()):
        closed = list(previous[pair])
        closed[8], closed[10], closed[11] = "CLOSED", run_id, now
        rows.append(tuple(closed))
    warehouse.execute(f"DELETE FROM identity.review_queue WHERE status = 'OPEN'{touching}")
    frame = pd.DataFrame(rows, columns=REVIEW_COLUMNS).astype(
        {
            "first_queued_at": "datetime64[us]",
            "closed_at": "datetime64[us]",
            "probability": "float64",
        }
    )
    warehouse.append("identity.review_queue", frame)
    if scope is None:
        return len(current)
    count = warehouse.query("SELECT count(*) AS n FROM identity.review_queue WHERE status = 'OPEN'")
    return int(count.iloc[0, 0])


def write_member_records(
    warehouse: Warehouse,
    run_id: str,
    records: Sequence[MemberRecord],
    replaced: Sequence[RecordId] | None = None,
) -> None:
    """Replace the normalised evidence dim_member's survivorship reads: all of it, or only
    the rows of the `replaced` records (those whose evidence changed or is gone)."""
    if replaced is None:
        warehouse.execute("DELETE FROM identity.member_records")
    else:
        delete_records(warehouse, "identity.member_records", replaced)
    for part in chunks(len(records)):
        warehouse.append("identity.member_records", _member_records_frame(records[part], run_id))


def _member_records_frame(records: Sequence[MemberRecord], run_id: str) -> pd.DataFrame:
    rows = []
    for record in records:
        phone = max(record.phones.items(), key=lambda item: (item[1][1], item[0]), default=(None,))[
            0
        ]
        mask = min(record.masks, default=None)
        rows.append(
            (
                record.source_system, record.source_record_id,
                record.real_names[0].text if record.real_names else None,
                min(record.nicknames, default=None), phone,
                _display_mask(mask if phone is None else record.phone_masks[phone]),
                min(record.emails, default=None), min(record.union_ids, default=None),
                record.gender, record.birth_date, min(record.cities, default=None),
                record.registered_at, record.first_seen, record.last_seen, run_id,
            )
        )  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=[
            "source_system", "source_record_id", "real_name", "nickname", "phone_e164",
            "phone_mask", "email", "union_id", "gender", "birth_date", "city",
            "registered_at", "first_seen_at", "last_seen_at", "run_id",
        ],
    ).astype(
        {"registered_at": "datetime64[us]", "first_seen_at": "datetime64[us]",
         "last_seen_at": "datetime64[us]"}
    )  # fmt: skip


def delete_records(warehouse: Warehouse, table: str, record_ids: Sequence[RecordId]) -> None:
    """Delete the rows of these records from a table keyed by source_system, source_record_id."""
    if not record_ids:
        return
    warehouse.execute(
        "CREATE TEMPORARY TABLE identity_deleted (source_system VARCHAR, source_record_id VARCHAR)"
    )
    try:
        warehouse.append(
            "identity_deleted",
            pd.DataFrame(list(record_ids), columns=["source_system", "source_record_id"]),
        )
        warehouse.execute(
            f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM identity_deleted d "
            f"WHERE d.source_system = {table}.source_system "
            f"AND d.source_record_id = {table}.source_record_id)"
        )
    finally:
        warehouse.execute("DROP TABLE identity_deleted")


def _display_mask(key: str | None) -> str | None:
    """A mask key (`138-8000`) as marketplaces show it (`138****8000`)."""
    if key is None:
        return None
    prefix, suffix = key.split("-")
    return f"{prefix}****{suffix}"
