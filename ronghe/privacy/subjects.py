"""Who is being erased: a member key, or a source record, to all of that person's records.

A member key reaches every source record currently assigned to it and to the
keys merged into it (retired keys point to their survivor through
`identity.member_keys.merged_into`). A source record reaches its member's
records the same way; before identity has run, it is a person on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractors.sinks import Sink

POS_MEMBER = "POS_MEMBER"


class UnknownSubject(LookupError):
    """The member key or source record is not known to the warehouse."""


@dataclass
class Subject:
    """One person to erase: their member keys and source records."""

    member_key: str | None
    member_keys: set[str] = field(default_factory=set)
    records: set[tuple[str, str]] = field(default_factory=set)

    @property
    def record_ids(self) -> set[str]:
        """Card numbers and buyer ids: the values raw rows carry."""
        return {record_id for _, record_id in self.records}


def _has_identity(sink: Sink) -> bool:
    return bool(sink.columns("identity", "member_xref")) and bool(
        sink.columns("identity", "member_keys")
    )


def resolve_member(sink: Sink, member_key: str) -> Subject:
    """The person behind a member key (a retired key leads to its survivor)."""
    if not _has_identity(sink):
        raise UnknownSubject("schema identity does not exist: run the identity step first")
    survivor = _survivor(sink, member_key)
    keys = _merged_into(sink, survivor)
    marks = ", ".join("?" for _ in keys)
    records = {
        (system, record_id)
        for system, record_id in sink.fetch(
            "SELECT DISTINCT source_system, source_record_id FROM identity.member_xref "
            f"WHERE valid_to IS NULL AND member_key IN ({marks})",
            sorted(keys),
        )
    }
    if not records:
        raise UnknownSubject(f"member key {member_key!r} has no source records")
    return Subject(member_key=survivor, member_keys=keys, records=records)


def resolve_record(sink: Sink, source_system: str, source_record_id: str) -> Subject:
    """The person a source record belongs to (just that record before identity has run)."""
    if _has_identity(sink):
        rows = sink.fetch(
            "SELECT member_key FROM identity.member_xref WHERE valid_to IS NULL "
            "AND source_system = ? AND source_record_id = ?",
            (source_system, source_record_id),
        )
        if rows:
            return resolve_member(sink, rows[0][0])
    return Subject(member_key=None, records={(source_system, source_record_id)})


def _survivor(sink: Sink, member_key: str) -> str:
    current = member_key
    for _ in range(1000):
        rows = sink.fetch(
            "SELECT merged_into FROM identity.member_keys WHERE member_key = ?", (current,)
        )
        if not rows:
            raise UnknownSubject(f"member key {member_key!r} is not known")
        if rows[0][0] is None:
            return current
        current = rows[0][0]
    raise UnknownSubject(f"member key {member_key!r}: merge chain does not end")


def _merged_into(sink: Sink, survivor: str) -> set[str]:
    keys = {survivor}
    frontier = [survivor]
    while frontier:
        marks = ", ".join("?" for _ in frontier)
        frontier = [
            key
            for (key,) in sink.fetch(
                f"SELECT member_key FROM identity.member_keys WHERE merged_into IN ({marks})",
                frontier,
            )
            if key not in keys
        ]
        keys.update(frontier)
    return keys
