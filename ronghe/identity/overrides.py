"""Steward overrides: force two records together (MERGE) or apart (SPLIT).

An override names two source records (`SYSTEM:record_id`, e.g.
`POS_MEMBER:C000123` and `TMALL:tb_88`). It stays ACTIVE, and every run
applies it, until revoked; a new override on the same pair revokes the
previous one, so the latest decision holds. The run that first applies an
override stamps it, and the merge or split it causes is logged like any other.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from ronghe.audit.record import OVERRIDE_RECORDED, OVERRIDE_REVOKED, record_override
from ronghe.identity.clustering import Override
from ronghe.identity.records import RecordId
from ronghe.identity.store import Warehouse

ACTIONS = ("MERGE", "SPLIT")
SOURCE_SYSTEMS = ("POS_MEMBER", "MALL", "TMALL", "JD")


@dataclass(frozen=True)
class StoredOverride:
    override_id: str
    action: str
    left: RecordId
    right: RecordId


def parse_record(text: str) -> RecordId:
    """`SYSTEM:record_id` -> (SYSTEM, record_id), with a clear error otherwise."""
    system, separator, record_id = text.partition(":")
    system = system.strip().upper()
    if not separator or not record_id.strip() or system not in SOURCE_SYSTEMS:
        raise ValueError(
            f"{text!r}: expected SYSTEM:record_id with SYSTEM one of {', '.join(SOURCE_SYSTEMS)}"
        )
    return (system, record_id.strip())


def add_override(
    warehouse: Warehouse,
    action: str,
    left: RecordId,
    right: RecordId,
    reason: str,
    requested_by: str,
    now: datetime,
) -> str:
    """Record a steward decision; returns its id. Revokes earlier decisions on the same pair."""
    action = action.upper()
    if action not in ACTIONS:
        raise ValueError(f"override action must be one of {ACTIONS}, not {action!r}")
    if left == right:
        raise ValueError("an override needs two different records")
    if not reason.strip():
        raise ValueError("an override needs a reason (it is kept for the audit trail)")
    left, right = sorted((left, right))
    override_id = f"OVR-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
    with warehouse.transaction():
        warehouse.execute(
            "UPDATE identity.overrides SET status = 'REVOKED', revoked_at = ? "
            "WHERE status = 'ACTIVE' AND left_source_system = ? AND left_source_record_id = ? "
            "AND right_source_system = ? AND right_source_record_id = ?",
            (now, *left, *right),
        )
        warehouse.append(
            "identity.overrides",
            pd.DataFrame(
                [(override_id, action, *left, *right, reason.strip(), requested_by, now, "ACTIVE")],
                columns=[
                    "override_id", "action", "left_source_system", "left_source_record_id",
                    "right_source_system", "right_source_record_id", "reason", "requested_by",
                    "requested_at", "status",
                ],
            ),
        )  # fmt: skip
        record_override(
            warehouse, OVERRIDE_RECORDED, override_id, requested_by,
            action=action, systems=[left[0], right[0]], reason=reason.strip(),
        )  # fmt: skip
    return override_id


def revoke_override(warehouse: Warehouse, override_id: str, now: datetime) -> bool:
    """Revoke an active override; False when there was none with that id."""
    found = warehouse.query(
        "SELECT count(*) AS n FROM identity.overrides WHERE override_id = ? AND status = 'ACTIVE'",
        (override_id,),
    )
    if not int(found.iloc[0, 0]):
        return False
    with warehouse.transaction():
        warehouse.execute(
            "UPDATE identity.overrides SET status = 'REVOKED', revoked_at = ? "
            "WHERE override_id = ?",
            (now, override_id),
        )
        record_override(warehouse, OVERRIDE_REVOKED, override_id, getpass.getuser())
    return True


def active_overrides(warehouse: Warehouse) -> list[StoredOverride]:
    frame = warehouse.query(
        "SELECT override_id, action, left_source_system, left_source_record_id, "
        "right_source_system, right_source_record_id FROM identity.overrides "
        "WHERE status = 'ACTIVE' ORDER BY requested_at, override_id"
    )
    return [
        StoredOverride(str(r[0]), str(r[1]), (str(r[2]), str(r[3])), (str(r[4]), str(r[5])))
        for r in frame.itertuples(index=False)
    ]


def applicable(
    overrides: Sequence[StoredOverride], index_of: dict[RecordId, int]
) -> tuple[list[Override], list[str]]:
    """Overrides whose two records exist in this run, as clustering input; and those skipped."""
    usable, skipped = [], []
    for item in overrides:
        if item.left in index_of and item.right in index_of:
            usable.append(
                Override(item.override_id, item.action, index_of[item.left], index_of[item.right])
            )
        else:
            skipped.append(item.override_id)
    return usable, skipped


def stamp_applied(
    warehouse: Warehouse, override_ids: Sequence[str], run_id: str, now: datetime
) -> None:
    for override_id in override_ids:
        warehouse.execute(
            "UPDATE identity.overrides SET first_applied_at = ?, first_applied_run_id = ? "
            "WHERE override_id = ? AND first_applied_run_id IS NULL",
            (now, run_id, override_id),
        )
