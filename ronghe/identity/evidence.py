"""The evidence cache: each record's normalised evidence, kept by a fingerprint of its inputs.

Normalising a record (phonenumbers, opencc, pypinyin) is most of the cost of
a full resolution, and most records do not change from one run to the next.
The warehouse computes a fingerprint of every record's input rows (its
registration row and every contact row: the sum of 60 bits of each row's md5,
and their count) in SQL; a record whose fingerprint
is unchanged is read back from `identity.member_evidence` instead of being
read and normalised again. The cache also keeps each record's blocking keys
(`identity.member_blocks`) and the connected component of the blocking graph
it belongs to, which is what lets a run re-match only what new evidence
touches (`ronghe.identity.incremental`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from ronghe.identity.blocking import blocking_keys
from ronghe.identity.disjoint_set import DisjointSet
from ronghe.identity.names import Name
from ronghe.identity.records import (
    CONTACT_COLUMNS,
    RECORD_COLUMNS,
    MemberRecord,
    RecordId,
    city_set,
    frozen,
)
from ronghe.identity.store import PostgresWarehouse, Warehouse

FINGERPRINTS = "identity_fingerprints"
"""Temporary table: every record in the inputs with the fingerprint of its input rows."""


def _row_text(columns: Sequence[str]) -> str:
    # '~' marks a null, so ('a', null) and (null, 'a') differ
    return " || '|' || ".join(f"coalesce(CAST({c} AS VARCHAR), '~')" for c in columns)


def _row_hash(text: str, postgres: bool) -> str:
    """60 bits of a row's md5 as an integer: summed per record, they fingerprint the
    record's rows in any order without sorting them (sorting long texts is the slow part)."""
    prefix = f"substr(md5({text}), 1, 15)"
    if postgres:
        return f"CAST(CAST('x' || {prefix} AS BIT(60)) AS BIGINT)"
    return f"CAST('0x' || {prefix} AS BIGINT)"


def stage_fingerprints(warehouse: Warehouse, records_table: str, contacts_table: str) -> None:
    """Fill the temporary table FINGERPRINTS from the two identity inputs."""
    postgres = isinstance(warehouse, PostgresWarehouse)
    parts = []
    for alias, table, columns in (
        ("r", records_table, RECORD_COLUMNS[2:]),
        ("c", contacts_table, CONTACT_COLUMNS[2:]),
    ):
        row = _row_hash(_row_text(columns), postgres)
        parts.append(
            f"(SELECT source_system, source_record_id, CAST(sum({row}) AS VARCHAR) || ':' || "
            f"CAST(count(*) AS VARCHAR) AS digest FROM {table} "
            f"GROUP BY source_system, source_record_id) {alias}"
        )
    warehouse.execute(f"DROP TABLE IF EXISTS {FINGERPRINTS}")
    warehouse.execute(
        f"CREATE TEMPORARY TABLE {FINGERPRINTS} AS "
        "SELECT coalesce(r.source_system, c.source_system) AS source_system, "
        "coalesce(r.source_record_id, c.source_record_id) AS source_record_id, "
        "coalesce(r.digest, '-') || '#' || coalesce(c.digest, '-') AS fingerprint "
        f"FROM {parts[0]} FULL OUTER JOIN {parts[1]} "
        "ON r.source_system = c.source_system AND r.source_record_id = c.source_record_id"
    )


def fingerprints_of(warehouse: Warehouse, scope: str | None = None) -> dict[RecordId, str]:
    """Fingerprints of every record, or of those in the `scope` table of record ids."""
    sql = f"SELECT f.source_system, f.source_record_id, f.fingerprint FROM {FINGERPRINTS} f"
    if scope is not None:
        sql += (
            f" JOIN {scope} s ON s.source_system = f.source_system "
            "AND s.source_record_id = f.source_record_id"
        )
    frame = warehouse.query(sql)
    return {(str(r[0]), str(r[1])): str(r[2]) for r in frame.itertuples(index=False, name=None)}


def components(records: Sequence[MemberRecord], oversized: Iterable[str]) -> list[str]:
    """For each record, its component of the blocking graph: records joined by keys that
    are not placeholders, named by the smallest record id in it."""
    excluded = set(oversized)
    sets = DisjointSet(len(records))
    first_with: dict[str, int] = {}
    for index, record in enumerate(records):
        for key in blocking_keys(record):
            if key not in excluded:
                sets.union(index, first_with.setdefault(key, index))
    # records are sorted by id, so a component's root is its smallest record
    return [component_name(records[sets.find(i)].record_id) for i in range(len(records))]


def component_name(record_id: RecordId) -> str:
    return f"{record_id[0]}|{record_id[1]}"


def evidence_frame(
    records: Sequence[MemberRecord],
    component_of: Sequence[str],
    fingerprints: dict[RecordId, str],
    config_hash: str,
    run_id: str,
) -> pd.DataFrame:
    rows = [
        (
            *record.record_id,
            fingerprints.get(record.record_id, ""),
            component,
            to_json(record),
            config_hash,
            run_id,
        )
        for record, component in zip(records, component_of, strict=True)
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "source_system", "source_record_id", "fingerprint", "component", "evidence",
            "config_hash", "run_id",
        ],
    )  # fmt: skip


def blocks_frame(records: Sequence[MemberRecord]) -> pd.DataFrame:
    rows = [(key, *record.record_id) for record in records for key in blocking_keys(record)]
    return pd.DataFrame(rows, columns=["block_key", "source_system", "source_record_id"])


def oversized_keys(warehouse: Warehouse, max_block_size: int) -> dict[str, int]:
    """Blocking keys held by more records than a block may have, over the whole cache."""
    frame = warehouse.query(
        "SELECT block_key, count(*) AS n FROM identity.member_blocks GROUP BY block_key "
        "HAVING count(*) > ?",
        (max_block_size,),
    )
    return {str(r[0]): int(r[1]) for r in frame.itertuples(index=False, name=None)}


# --- serialisation -----------------------------------------------------------------------


def to_json(record: MemberRecord) -> str:
    return json.dumps(
        {
            "g": record.gender,
            "b": _iso(record.birth_date),
            "r": _iso(record.registered_at),
            "n": [
                [n.text, [sorted(r) for r in n.readings], n.given_pinyin] for n in record.real_names
            ],
            "k": sorted(record.nicknames),
            "p": {k: [_iso(s), _iso(e)] for k, (s, e) in record.phones.items()},
            "m": {k: [_iso(s), _iso(e)] for k, (s, e) in record.masks.items()},
            "pm": record.phone_masks,
            "e": sorted(record.emails),
            "u": sorted(record.union_ids),
            "c": sorted(record.cities),
            "cd": sorted(record.cards),
            "cc": sorted(record.coupon_cards),
            "f": _iso(record.first_seen),
            "l": _iso(record.last_seen),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def from_json(record_id: RecordId, text: str) -> MemberRecord:
    data: dict[str, Any] = json.loads(text)
    birth = data["b"]
    return MemberRecord(
        source_system=record_id[0],
        source_record_id=record_id[1],
        gender=data["g"],
        birth_date=date.fromisoformat(birth) if birth else None,
        registered_at=_stamp(data["r"]),
        real_names=tuple(
            Name(text, True, tuple(frozenset(r) for r in readings), given)
            for text, readings, given in data["n"]
        ),
        nicknames=frozen(data["k"]),
        phones={k: (_stamp(s), _stamp(e)) for k, (s, e) in data["p"].items()},
        masks={k: (_stamp(s), _stamp(e)) for k, (s, e) in data["m"].items()},
        phone_masks=dict(data["pm"]),
        emails=frozen(data["e"]),
        union_ids=frozen(data["u"]),
        cities=city_set(data["c"]),
        cards=frozen(data["cd"]),
        coupon_cards=frozen(data.get("cc", ())),
        first_seen=_stamp(data["f"]),
        last_seen=_stamp(data["l"]),
    )


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _stamp(value: str | None) -> Any:
    return None if value is None else datetime.fromisoformat(value)
