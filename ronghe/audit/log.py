"""`ops.audit_log`: one append-only, hash-chained log of what was done to the warehouse.

Every action an auditor asks about appends one entry through `append`, inside
the transaction of the action itself, so a failed action leaves no entry and
an entry never exists without its action. There is no update or delete path.
Each entry carries `row_hash` = sha256(previous entry's hash + canonical JSON
of the entry), so changing or removing an entry breaks the chain from that
entry on; `verify` names the first entry that no longer fits.

No personal data goes in: an erasure is logged by its id in the erasure
register (`ops.privacy_erasures`), an override by its id in
`identity.overrides` (where an erasure can still reach the record ids).

Appends come from one writer at a time (the `warehouse_writer` pool); `seq`
is the primary key, so a second writer racing for the same position fails
instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

TABLE = "ops.audit_log"
GENESIS_HASH = "0" * 64
COLUMNS = (
    "seq", "recorded_at", "action", "actor", "run_id", "subject", "details",
    "previous_hash", "row_hash",
)  # fmt: skip
# The same DDL runs on DuckDB and PostgreSQL.
DDL = (
    "CREATE SCHEMA IF NOT EXISTS ops",
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        seq BIGINT PRIMARY KEY,
        recorded_at TIMESTAMP NOT NULL,
        action VARCHAR NOT NULL,
        actor VARCHAR NOT NULL,
        run_id VARCHAR,
        subject VARCHAR,
        details VARCHAR NOT NULL,
        previous_hash VARCHAR NOT NULL,
        row_hash VARCHAR NOT NULL)""",
)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


class _Statements:
    """`?`-placeholder SQL on whichever handle the action already holds its transaction in:
    a SQLAlchemy connection, the identity step's warehouse, or a landing sink."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if isinstance(self.target, sa.Connection):
            self.target.execute(*_named(sql, params))
        else:
            self.target.execute(sql, tuple(params))

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        if isinstance(self.target, sa.Connection):
            return [tuple(row) for row in self.target.execute(*_named(sql, params))]
        if hasattr(self.target, "fetch"):
            return list(self.target.fetch(sql, tuple(params)))
        return list(self.target.query(sql, tuple(params)).itertuples(index=False, name=None))


def _named(sql: str, params: Sequence[Any]) -> tuple[Any, dict[str, Any]]:
    pieces = sql.split("?")
    text = pieces[0] + "".join(f":p{i}{piece}" for i, piece in enumerate(pieces[1:]))
    return sa.text(text), {f"p{i}": value for i, value in enumerate(params)}


def canonical_details(details: Mapping[str, Any]) -> str:
    return json.dumps(
        details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def entry_hash(previous_hash: str, entry: Mapping[str, Any]) -> str:
    """sha256 of the previous hash and the canonical JSON of the entry's own fields."""
    recorded_at = entry["recorded_at"]
    fields = {
        "seq": int(entry["seq"]),
        "recorded_at": recorded_at.strftime(_TIME_FORMAT),
        "action": entry["action"],
        "actor": entry["actor"],
        "run_id": entry["run_id"],
        "subject": entry["subject"],
        "details": entry["details"],
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((previous_hash + canonical).encode("utf-8")).hexdigest()


def append(
    target: Any,
    action: str,
    *,
    actor: str,
    subject: str | None = None,
    run_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one entry inside the caller's open transaction; returns the entry."""
    statements = _statements(target)
    last = statements.fetch(f"SELECT seq, row_hash FROM {TABLE} ORDER BY seq DESC LIMIT 1")
    seq, previous_hash = (int(last[0][0]) + 1, str(last[0][1])) if last else (1, GENESIS_HASH)
    entry = {
        "seq": seq,
        "recorded_at": datetime.now(UTC).replace(tzinfo=None),
        "action": action,
        "actor": actor,
        "run_id": run_id,
        "subject": subject,
        "details": canonical_details(details or {}),
        "previous_hash": previous_hash,
    }
    entry["row_hash"] = entry_hash(previous_hash, entry)
    statements.execute(
        f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
        [entry[column] for column in COLUMNS],
    )
    return entry


def _statements(target: Any) -> _Statements:
    statements = _Statements(target)
    for statement in DDL:
        statements.execute(statement)
    return statements


@dataclass(frozen=True)
class Verdict:
    entries: int
    broken_seq: int | None
    problem: str | None
    head_hash: str

    @property
    def intact(self) -> bool:
        return self.broken_seq is None

    def describe(self) -> str:
        if self.intact:
            return f"audit log intact: {self.entries} entries, head hash {self.head_hash}"
        return f"audit log BROKEN at entry {self.broken_seq}: {self.problem}"


def verify(entries: Sequence[Mapping[str, Any]]) -> Verdict:
    """Walk the chain in `seq` order; the first entry that does not fit breaks it."""
    previous_hash = GENESIS_HASH
    for expected_seq, entry in enumerate(entries, start=1):
        seq = int(entry["seq"])
        problem = None
        if seq != expected_seq:
            problem = f"expected entry {expected_seq} here (entries are missing before it)"
        elif entry["previous_hash"] != previous_hash:
            problem = "its previous_hash does not match the entry before it"
        elif entry_hash(previous_hash, entry) != entry["row_hash"]:
            problem = "its content does not match its row_hash (it was changed)"
        if problem:
            return Verdict(len(entries), seq, problem, previous_hash)
        previous_hash = entry["row_hash"]
    return Verdict(len(entries), None, None, previous_hash)


def read_entries(
    connection: Any, *, since: datetime | None = None, action: str | None = None
) -> list[dict[str, Any]]:
    """Entries in `seq` order from a DB-API connection (DuckDB or psycopg2); [] with no log."""
    if not _log_exists(connection):
        return []
    where, params = [], []
    if since is not None:
        where.append("recorded_at >= ?")
        params.append(since)
    if action is not None:
        where.append("(action = ? OR action LIKE ?)")
        params += [action, f"{action}.%"]
    sql = f"SELECT {', '.join(COLUMNS)} FROM {TABLE}"
    sql += f" WHERE {' AND '.join(where)}" if where else ""
    rows = _dbapi_fetch(connection, sql + " ORDER BY seq", params)
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def _log_exists(connection: Any) -> bool:
    found = _dbapi_fetch(
        connection,
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'ops' AND table_name = 'audit_log'",
        [],
    )
    return bool(found[0][0])


def _dbapi_fetch(connection: Any, sql: str, params: Sequence[Any]) -> list[tuple]:
    if hasattr(connection, "cursor") and not hasattr(connection, "fetchall"):
        cursor = connection.cursor()
        try:
            if params:
                sql = sql.replace("%", "%%").replace("?", "%s")
            cursor.execute(sql, tuple(params) or None)
            return cursor.fetchall()
        finally:
            cursor.close()
    return connection.execute(sql, list(params)).fetchall()
