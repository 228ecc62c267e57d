"""The erasure register and its audit log, in schema `ops`.

- `privacy_erasures`: one row per erasure request: who asked, when, the member
  key (a pseudonymous key, not personal data), how many source records it
  reached. Never a name, phone or record id.
- `privacy_erased_identifiers`: keyed hashes of every identifier of an erased
  person (card numbers, buyer ids, phones, e-mails, union_ids). Consulted by
  every landing batch, so the person does not come back with a re-extraction.
- `privacy_erasure_actions`: what each erasure (or a later landing batch
  re-applying it) did: per table and column set, the action and the row count.

Append-only; the same DDL runs on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from extractors.sinks import Sink

TABLES: dict[str, str] = {
    "privacy_erasures": """
        erasure_id VARCHAR NOT NULL,
        requested_at TIMESTAMP NOT NULL,
        requested_by VARCHAR NOT NULL,
        subject_kind VARCHAR NOT NULL,
        member_key VARCHAR,
        records_erased BIGINT NOT NULL,
        identifiers_registered BIGINT NOT NULL,
        reason VARCHAR""",
    "privacy_erased_identifiers": """
        erasure_id VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        identifier_hash VARCHAR NOT NULL""",
    "privacy_erasure_actions": """
        erasure_id VARCHAR,
        batch_id VARCHAR,
        applied_at TIMESTAMP NOT NULL,
        layer VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        columns VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        rows_affected BIGINT NOT NULL""",
}


@dataclass(frozen=True)
class Action:
    """What one scrub did to one table."""

    layer: str
    table: str
    columns: tuple[str, ...]
    action: str
    rows: int


def ensure_register(sink: Sink) -> None:
    """Create the register tables if missing (idempotent)."""
    sink.execute("CREATE SCHEMA IF NOT EXISTS ops")
    for table, columns in TABLES.items():
        sink.execute(f"CREATE TABLE IF NOT EXISTS ops.{table} ({columns})")


def register_exists(sink: Sink) -> bool:
    rows = sink.fetch(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'ops' AND table_name = 'privacy_erased_identifiers'"
    )
    return bool(rows[0][0])


def erased_hashes(sink: Sink) -> dict[str, set[str]]:
    """Category -> keyed hashes of every erased identifier (empty without a register)."""
    if not register_exists(sink):
        return {}
    found: dict[str, set[str]] = {}
    for category, digest in sink.fetch(
        "SELECT DISTINCT category, identifier_hash FROM ops.privacy_erased_identifiers"
    ):
        found.setdefault(category, set()).add(digest)
    return found


def record_identifiers(sink: Sink, erasure_id: str, hashes: Iterable[tuple[str, str]]) -> int:
    rows = sorted(set(hashes))
    for category, digest in rows:
        sink.execute(
            "INSERT INTO ops.privacy_erased_identifiers VALUES (?, ?, ?)",
            (erasure_id, category, digest),
        )
    return len(rows)


def record_actions(
    sink: Sink, actions: Iterable[Action], erasure_id: str | None, batch_id: str | None
) -> None:
    applied_at = datetime.now(UTC).replace(tzinfo=None)
    for action in actions:
        if action.rows:
            sink.execute(
                "INSERT INTO ops.privacy_erasure_actions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    erasure_id,
                    batch_id,
                    applied_at,
                    action.layer,
                    action.table,
                    ",".join(action.columns),
                    action.action,
                    action.rows,
                ),
            )
