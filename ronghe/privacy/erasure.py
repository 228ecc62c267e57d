"""`ronghe privacy erase`: forget one person in every layer, and keep forgetting them.

One warehouse transaction:
1. resolve the person: a member key (or a source record) to every source
   record merged into it (`subjects`);
2. collect their identifiers from raw and identity, and put keyed hashes of
   them in the register (`register`), which every later landing batch consults;
3. scrub raw and quarantined text through the register (`enforce`);
4. scrub the identity engine's state and every built table (staging,
   intermediate, unified, marts): personal columns of the person's rows are
   nulled (masked forms too), their card numbers and buyer ids become
   pseudonyms, and free-text evidence loses their values. Facts stay: sales
   still add up, under the same member key, which now carries no personal data;
5. write the erasure and what it did per table to the audit log (no personal data).

A later `dbt build` or identity run rebuilds from the scrubbed raw and
identity tables, so the person does not come back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from extractors.sinks import Sink, qualified, quote, sink_transaction
from ronghe.audit.record import record_erasure
from ronghe.privacy.catalog import (
    MASKED_CATEGORIES,
    MATCHING_CATEGORIES,
    Classification,
    ColumnClass,
    classification_of,
    load_classification,
    looks_personal,
)
from ronghe.privacy.enforce import enforce_register
from ronghe.privacy.identifiers import (
    PSEUDONYM_PREFIX,
    keyed_hash,
    normalise,
    privacy_key,
    pseudonym,
)
from ronghe.privacy.register import (
    Action,
    ensure_register,
    record_actions,
    record_identifiers,
)
from ronghe.privacy.subjects import Subject, UnknownSubject, resolve_member, resolve_record
from ronghe.settings import Settings

LANDING_SCHEMAS = frozenset({"raw", "ops"})
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast"})
RECORD_ID_COLUMNS = frozenset(
    {
        "source_record_id",
        "left_source_record_id",
        "right_source_record_id",
        "anchor_source_record_id",
        "member_source_record_id",
    }
)
# Free text of the identity engine that may quote a person's values.
EVIDENCE_TEXT_COLUMNS = frozenset({"record_ids", "evidence", "reason"})
ERASED_VALUE = "[erased]"
MIN_TEXT_VALUE_LENGTH = 2


@dataclass
class PersonalValues:
    """Every value of one person found in raw and identity, by category."""

    by_category: dict[str, set[str]] = field(default_factory=dict)
    rows_seen: int = 0

    def add(self, category: str | None, value: object) -> None:
        if category is None or value is None or str(value).strip() == "":
            return
        text = str(value)
        bucket = self.by_category.setdefault(category, set())
        bucket.add(text)
        normalised = normalise(category, text)
        if normalised is not None:
            bucket.add(normalised)

    def of(self, category: str) -> set[str]:
        return self.by_category.get(category, set())

    def all_text(self) -> set[str]:
        return {v for values in self.by_category.values() for v in values}


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure did; holds no personal data."""

    erasure_id: str
    member_key: str | None
    records_erased: int
    identifiers_registered: int
    actions: list[Action]

    def as_dict(self) -> dict[str, object]:
        return {
            "erasure_id": self.erasure_id,
            "member_key": self.member_key,
            "records_erased": self.records_erased,
            "identifiers_registered": self.identifiers_registered,
            "rows_affected": self.rows_affected(),
        }

    def rows_affected(self) -> dict[str, dict[str, int]]:
        """`schema.table` -> action (nulled, pseudonymised, redacted) -> rows."""
        summary: dict[str, dict[str, int]] = {}
        for action in self.actions:
            per_table = summary.setdefault(f"{action.layer}.{action.table}", {})
            per_table[action.action] = per_table.get(action.action, 0) + action.rows
        return summary


def erase(
    settings: Settings,
    requested_by: str,
    member_key: str | None = None,
    record: tuple[str, str] | None = None,
    reason: str | None = None,
) -> ErasureResult:
    """Erase the person behind `member_key` or `record` (source_system, source_record_id)."""
    if (member_key is None) == (record is None) or (record is not None and len(record) != 2):
        raise ValueError("name exactly one of a member key or a (system, record id) pair")
    key = privacy_key(settings)
    classification = load_classification()
    scope = "member" if member_key else "source_record"
    with sink_transaction(settings.warehouse, "privacy") as sink:
        ensure_register(sink)
        subject = resolve_member(sink, member_key) if member_key else resolve_record(sink, *record)
        values = collect_values(sink, subject, classification)
        if subject.member_key is None and not values.rows_seen:
            raise UnknownSubject(f"no raw or identity row holds the record {record}")
        erasure_id = _next_erasure_id(sink)
        registered = record_identifiers(sink, erasure_id, _hashes(key, subject, values))
        actions = enforce_register(sink, key, classification=classification)
        actions += _drop_identity_cache(sink, subject)
        for schema, table in _built_tables(sink):
            declared = classification_of(classification, schema, table)
            actions += scrub_table(sink, key, schema, table, declared, subject, values)
        _keep_records_together(sink, key, subject, erasure_id, requested_by)
        sink.execute(
            "INSERT INTO ops.privacy_erasures VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                erasure_id,
                datetime.now(UTC).replace(tzinfo=None),
                requested_by,
                scope,
                subject.member_key,
                len(subject.records),
                registered,
                reason,
            ),
        )
        record_actions(sink, actions, erasure_id=erasure_id, batch_id=None)
        record_erasure(sink, erasure_id, requested_by, scope)
    return ErasureResult(erasure_id, subject.member_key, len(subject.records), registered, actions)


def collect_values(sink: Sink, subject: Subject, classification: Classification) -> PersonalValues:
    """The person's personal values in raw rows of their records and in identity's evidence."""
    values = PersonalValues()
    ids = sorted(subject.record_ids)
    for record_id in ids:
        values.add("customer_id", record_id)
    for (schema, table), declared in sorted(classification.items()):
        if schema not in ("raw", "identity"):
            continue
        present = set(sink.columns(schema, table))
        personal = {c: d.category for c, d in declared.items() if d.pii and c in present}
        links = [c for c, category in personal.items() if category == "customer_id"]
        links += [c for c in RECORD_ID_COLUMNS if c in present]
        if not links or not personal:
            continue
        where = " OR ".join(f"{quote(c)} IN ({_marks(ids)})" for c in links)
        selected = sorted(personal)
        rows = sink.fetch(
            f"SELECT {', '.join(quote(c) for c in selected)} FROM {qualified(schema, table)} "
            f"WHERE {where}",
            ids * len(links),
        )
        values.rows_seen += len(rows)
        for row in rows:
            for column, value in zip(selected, row, strict=True):
                values.add(personal[column], value)
    return values


def scrub_table(
    sink: Sink,
    key: bytes,
    schema: str,
    table: str,
    declared: Mapping[str, ColumnClass],
    subject: Subject,
    values: PersonalValues,
) -> list[Action]:
    """Remove the person's personal values from one identity or built table."""
    columns = sink.columns(schema, table)
    personal: dict[str, str] = {}
    for column in columns:
        decision = declared.get(column.lower())
        if decision is not None:
            if decision.pii or decision.category in MASKED_CATEGORIES:
                personal[column] = decision.category or "unclassified"
        elif (suggested := looks_personal(column)) is not None:
            personal[column] = suggested
    id_columns = [c for c in columns if c in RECORD_ID_COLUMNS or personal.get(c) == "customer_id"]
    relation = qualified(schema, table)
    ids = sorted(subject.record_ids)
    actions: list[Action] = []
    links: list[tuple[str, list[str]]] = [(c, ids) for c in id_columns]
    if "member_key" in columns and subject.member_keys:
        links.append(("member_key", sorted(subject.member_keys)))
    to_null = [c for c in personal if c not in id_columns]
    if to_null and links:
        where = " OR ".join(f"{quote(c)} IN ({_marks(v)})" for c, v in links)
        params = [value for _, v in links for value in v]
        actions += _null_columns(sink, schema, table, to_null, where, params)
    # ids erased before are pseudonyms already; only the others change
    clear_ids = [record_id for record_id in ids if not record_id.startswith(PSEUDONYM_PREFIX)]
    for column in id_columns if clear_ids else []:
        rows = _count(sink, relation, f"{quote(column)} IN ({_marks(clear_ids)})", clear_ids)
        for record_id in clear_ids:
            sink.execute(
                f"UPDATE {relation} SET {quote(column)} = ? WHERE {quote(column)} = ?",
                (pseudonym(key, record_id), record_id),
            )
        if rows:
            actions.append(Action(schema, table, (column,), "pseudonymised", rows))
    for column in to_null:
        matching = (
            sorted(values.of(personal[column])) if personal[column] in MATCHING_CATEGORIES else []
        )
        if matching:
            where = f"{quote(column)} IN ({_marks(matching)})"
            actions += _null_columns(sink, schema, table, [column], where, matching)
    if schema == "identity":
        actions += _scrub_evidence_text(sink, key, schema, table, columns, subject, values)
    return actions


def _drop_identity_cache(sink: Sink, subject: Subject) -> list[Action]:
    """Forget the identity step's cached evidence of every component the person is in.

    The cache (`identity.member_evidence`, `identity.member_blocks`) holds
    normalised phones and e-mails as blocking keys and names components after
    a record id; it is a cache, so the person's components are dropped whole
    rather than scrubbed, and the next identity run normalises and re-matches
    those records from the erased inputs.
    """
    if not (sink.columns("identity", "member_evidence") and subject.records):
        return []
    sink.execute("CREATE TEMPORARY TABLE erased_components (component VARCHAR)")
    try:
        for system, record_id in sorted(subject.records):
            sink.execute(
                "INSERT INTO erased_components SELECT component FROM identity.member_evidence "
                "WHERE source_system = ? AND source_record_id = ?",
                (system, record_id),
            )
        in_components = (
            "EXISTS (SELECT 1 FROM identity.member_evidence e JOIN erased_components c "
            "ON c.component = e.component WHERE e.source_system = {t}.source_system "
            "AND e.source_record_id = {t}.source_record_id)"
        )
        actions = []
        for table, columns in (
            ("member_blocks", ("block_key",)),
            ("member_evidence", ("evidence", "component")),
        ):
            relation = qualified("identity", table)
            where = in_components.format(t=relation)
            rows = _count(sink, relation, where, [])
            sink.execute(f"DELETE FROM {relation} WHERE {where}")
            if rows:
                actions.append(Action("identity", table, columns, "deleted", rows))
        return actions
    finally:
        sink.execute("DROP TABLE erased_components")


def _scrub_evidence_text(
    sink: Sink,
    key: bytes,
    schema: str,
    table: str,
    columns: Iterable[str],
    subject: Subject,
    values: PersonalValues,
) -> list[Action]:
    replacements = {record_id: pseudonym(key, record_id) for record_id in subject.record_ids}
    for value in values.all_text():
        if len(value) >= MIN_TEXT_VALUE_LENGTH and value not in replacements:
            replacements[value] = ERASED_VALUE
    # Longer values first, so a phone is replaced whole before any shorter value inside it.
    ordered = sorted(replacements.items(), key=lambda item: -len(item[0]))
    relation = qualified(schema, table)
    actions = []
    for column in sorted(set(columns) & EVIDENCE_TEXT_COLUMNS):
        touched = 0
        for old, new in ordered:
            where = f"strpos({quote(column)}, ?) > 0"
            rows = _count(sink, relation, where, [old])
            if rows:
                sink.execute(
                    f"UPDATE {relation} SET {quote(column)} = replace({quote(column)}, ?, ?) "
                    f"WHERE {where}",
                    (old, new, old),
                )
                touched += rows
        if touched:
            actions.append(Action(schema, table, (column,), "redacted", touched))
    return actions


def _null_columns(
    sink: Sink, schema: str, table: str, columns: list[str], where: str, params: list[str]
) -> list[Action]:
    """Null `columns` on the rows `where` selects that still hold any of them."""
    relation = qualified(schema, table)
    holding = " OR ".join(f"{quote(c)} IS NOT NULL" for c in columns)
    where = f"({where}) AND ({holding})"
    rows = _count(sink, relation, where, params)
    if not rows:
        return []
    assignments = ", ".join(f"{quote(c)} = NULL" for c in columns)
    sink.execute(f"UPDATE {relation} SET {assignments} WHERE {where}", params)
    return [Action(schema, table, tuple(columns), "nulled", rows)]


def _keep_records_together(
    sink: Sink, key: bytes, subject: Subject, erasure_id: str, requested_by: str
) -> None:
    """Steward MERGE overrides between the person's (now pseudonymous) records.

    Without their personal values the identity engine would see no evidence
    left linking them and split them apart; the overrides keep their facts
    under one member key. Each is an ordinary, revocable identity override.
    """
    if len(subject.records) < 2 or not sink.columns("identity", "overrides"):
        return
    if all(record_id.startswith(PSEUDONYM_PREFIX) for record_id in subject.record_ids):
        return  # erased before: the overrides of that erasure still hold
    now = datetime.now(UTC).replace(tzinfo=None)
    records = sorted((system, pseudonym(key, record_id)) for system, record_id in subject.records)
    anchor = records[0]
    for number, other in enumerate(records[1:], start=1):
        sink.execute(
            "INSERT INTO identity.overrides (override_id, action, left_source_system, "
            "left_source_record_id, right_source_system, right_source_record_id, reason, "
            "requested_by, requested_at, status) "
            "VALUES (?, 'MERGE', ?, ?, ?, ?, ?, ?, ?, 'ACTIVE')",
            (
                f"OVR-{erasure_id}-{number}",
                *anchor,
                *other,
                f"{erasure_id}: keep an erased person's records under their member key",
                requested_by,
                now,
            ),
        )


def _built_tables(sink: Sink) -> list[tuple[str, str]]:
    """The identity engine's tables and every table dbt built (views follow raw by themselves)."""
    rows = sink.fetch(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2"
    )
    return [
        (schema, table)
        for schema, table in rows
        if schema not in LANDING_SCHEMAS and schema not in SYSTEM_SCHEMAS
    ]


def _hashes(key: bytes, subject: Subject, values: PersonalValues) -> set[tuple[str, str]]:
    hashes = set()
    for category in MATCHING_CATEGORIES:
        for value in values.of(category):
            normalised = normalise(category, value)
            if normalised is not None:
                hashes.add((category, keyed_hash(key, category, normalised)))
    for record_id in subject.record_ids:
        hashes.add(("customer_id", keyed_hash(key, "customer_id", record_id)))
    return hashes


def _next_erasure_id(sink: Sink) -> str:
    count = sink.fetch("SELECT count(*) FROM ops.privacy_erasures")[0][0]
    return f"erasure-{int(count) + 1:06d}"


def _count(sink: Sink, relation: str, where: str, params: list[str]) -> int:
    return int(sink.fetch(f"SELECT count(*) FROM {relation} WHERE {where}", params)[0][0])


def _marks(values: list[str]) -> str:
    return ", ".join("?" for _ in values)
