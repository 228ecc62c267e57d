"""Small hand-made member records for rule tests, built through the real input path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ronghe.identity.clustering import Override
from ronghe.identity.config import load_identity_config
from ronghe.identity.matching import MatchOutcome, match_members
from ronghe.identity.records import CONTACT_COLUMNS, RECORD_COLUMNS, MemberRecord, build_records
from ronghe.settings import REPO_ROOT

CONFIG = load_identity_config(REPO_ROOT / "config" / "ronghe.yml")


@dataclass
class Rec:
    """One source record: registration facts plus what was seen with it."""

    system: str
    record_id: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    union_id: str | None = None
    gender: str | None = None
    birth_date: str | None = None
    city: str | None = None
    registered_at: str = "2023-01-01 10:00:00"
    seen: list[dict[str, Any]] = field(default_factory=list)
    """Extra observations: dicts with evidence_source, phone, name, city, first, last."""


def frames(recs: list[Rec]) -> tuple[pd.DataFrame, pd.DataFrame]:
    registrations, contacts = [], []
    for r in recs:
        registrations.append(
            (r.system, r.record_id, r.gender, r.birth_date, r.registered_at, None, r.registered_at)
        )
        contacts.append(
            (r.system, r.record_id, "REGISTRATION", r.name, r.phone, r.email, r.union_id, r.city,
             None, r.registered_at, r.registered_at)
        )  # fmt: skip
        for s in r.seen:
            contacts.append(
                (r.system, r.record_id, s.get("evidence_source", "ORDER"), s.get("name"),
                 s.get("phone"), s.get("email"), s.get("union_id"), s.get("city"),
                 s.get("card_no"), s["first"], s.get("last", s["first"]))
            )  # fmt: skip
    return (
        pd.DataFrame(registrations, columns=list(RECORD_COLUMNS)),
        pd.DataFrame(contacts, columns=list(CONTACT_COLUMNS)),
    )


def records_of(recs: list[Rec]) -> list[MemberRecord]:
    registrations, contacts = frames(recs)
    return build_records(registrations, contacts)


def match(
    recs: list[Rec], overrides: list[tuple[str, str, str]] = ()
) -> tuple[MatchOutcome, list[MemberRecord]]:
    records = records_of(recs)
    index = {r.source_record_id: i for i, r in enumerate(records)}
    resolved = [
        Override(f"o{n}", action, index[a], index[b]) for n, (action, a, b) in enumerate(overrides)
    ]
    return match_members(records, resolved, CONFIG.members), records


def same_person(outcome: MatchOutcome, records: list[MemberRecord], a: str, b: str) -> bool:
    index = {r.source_record_id: i for i, r in enumerate(records)}
    cluster = outcome.resolution.cluster_of
    return cluster[index[a]] == cluster[index[b]]


def queued(outcome: MatchOutcome, records: list[MemberRecord], a: str, b: str) -> bool:
    pair = {a, b}
    return any(
        {records[item.left].source_record_id, records[item.right].source_record_id} == pair
        for item in outcome.resolution.review
    )
