"""Apply the erasure register to the landing: raw tables and quarantined text.

Runs for the whole warehouse when a person is erased, and for one batch
inside every landing transaction (`enforce_batch`), so rows of an erased
person that a source sends again are scrubbed before they are committed.

On a raw table (its personal columns come from the dbt sources' `meta`):
- a row whose card number or buyer id is erased loses every personal value,
  and the id becomes its pseudonym (`ERASED-...`), so its facts (sales,
  coupons) still add up and still belong to the same member key;
- any other row loses just the erased phone, e-mail or union_id it carries
  (a shared family phone, a marketplace order typed with that phone).
Rows are never deleted: the load ledger still balances. Quarantined rows
keep their reason and lose their raw text when it carries an erased identifier.
"""

from __future__ import annotations

from collections.abc import Iterable

from extractors.sinks import Sink, qualified, quote
from ronghe.privacy.catalog import MATCHING_CATEGORIES, Classification, load_classification
from ronghe.privacy.identifiers import (
    candidates_in_text,
    keyed_hash,
    normalise,
    privacy_key,
    pseudonym,
)
from ronghe.privacy.register import Action, erased_hashes, record_actions
from ronghe.settings import Settings

RAW_SCHEMA = "raw"
ERASED_TEXT_NOTE = " [raw text erased: personal data of an erased person]"


def enforce_register(
    sink: Sink,
    key: bytes,
    batch_id: str | None = None,
    classification: Classification | None = None,
) -> list[Action]:
    """Scrub what the register names from raw and quarantine (one batch, or all when None)."""
    hashes = erased_hashes(sink)
    if not hashes:
        return []
    classification = classification or load_classification()
    actions: list[Action] = []
    for (schema, table), columns in sorted(classification.items()):
        if schema != RAW_SCHEMA or not sink.columns(schema, table):
            continue
        personal = {name: c.category for name, c in columns.items() if c.pii}
        actions += _scrub_raw_table(sink, key, hashes, table, personal, batch_id)
    actions += _scrub_quarantine(sink, key, hashes, batch_id)
    return actions


def enforce_batch(sink: Sink, batch_id: str, settings: Settings) -> None:
    """Inside a landing transaction: scrub the batch's rows of erased people, and log it.

    The key is only required once the register holds an erasure.
    """
    if not erased_hashes(sink):
        return
    actions = enforce_register(sink, privacy_key(settings), batch_id)
    record_actions(sink, actions, erasure_id=None, batch_id=batch_id)


def _scrub_raw_table(
    sink: Sink,
    key: bytes,
    hashes: dict[str, set[str]],
    table: str,
    personal: dict[str, str | None],
    batch_id: str | None,
) -> list[Action]:
    present = set(sink.columns(RAW_SCHEMA, table))
    personal = {column: category for column, category in personal.items() if column in present}
    relation = qualified(RAW_SCHEMA, table)
    batch_sql, batch_params = ("AND _batch_id = ?", [batch_id]) if batch_id else ("", [])
    matched: dict[str, list[str]] = {}
    for column, category in personal.items():
        if category not in MATCHING_CATEGORIES:
            continue
        values = sink.fetch(
            f"SELECT DISTINCT {quote(column)} FROM {relation} "
            f"WHERE {quote(column)} IS NOT NULL {batch_sql}",
            batch_params,
        )
        erased = [
            value
            for (value,) in values
            if (text := normalise(category, value)) is not None
            and keyed_hash(key, category, text) in hashes.get(category, set())
        ]
        if erased:
            matched[column] = erased
    actions: list[Action] = []
    id_columns = [c for c in matched if personal[c] == "customer_id"]
    others = [c for c, category in personal.items() if category != "customer_id"]
    for id_column in id_columns:
        where = f"{quote(id_column)} IN ({_marks(matched[id_column])}) {batch_sql}"
        params = [*matched[id_column], *batch_params]
        if others:
            rows = _count(sink, relation, where, params)
            assignments = ", ".join(f"{quote(c)} = NULL" for c in others)
            sink.execute(f"UPDATE {relation} SET {assignments} WHERE {where}", params)
            actions.append(Action(RAW_SCHEMA, table, tuple(others), "nulled", rows))
        rows = _count(sink, relation, where, params)
        for value in matched[id_column]:
            sink.execute(
                f"UPDATE {relation} SET {quote(id_column)} = ? "
                f"WHERE {quote(id_column)} = ? {batch_sql}",
                [pseudonym(key, value), value, *batch_params],
            )
        actions.append(Action(RAW_SCHEMA, table, (id_column,), "pseudonymised", rows))
    for column, values in matched.items():
        if personal[column] == "customer_id":
            continue
        where = f"{quote(column)} IN ({_marks(values)}) {batch_sql}"
        rows = _count(sink, relation, where, [*values, *batch_params])
        if rows:
            sink.execute(
                f"UPDATE {relation} SET {quote(column)} = NULL WHERE {where}",
                [*values, *batch_params],
            )
            actions.append(Action(RAW_SCHEMA, table, (column,), "nulled", rows))
    return actions


def _scrub_quarantine(
    sink: Sink, key: bytes, hashes: dict[str, set[str]], batch_id: str | None
) -> list[Action]:
    if not sink.columns("ops", "quarantine"):
        return []
    batch_sql, batch_params = ("AND batch_id = ?", [batch_id]) if batch_id else ("", [])
    rows = sink.fetch(
        f"SELECT DISTINCT raw_text FROM ops.quarantine WHERE raw_text IS NOT NULL {batch_sql}",
        batch_params,
    )
    erased = [
        text
        for (text,) in rows
        if any(
            keyed_hash(key, category, value) in hashes.get(category, set())
            for category, value in candidates_in_text(text)
        )
    ]
    if not erased:
        return []
    where = f"raw_text IN ({_marks(erased)}) {batch_sql}"
    params = [*erased, *batch_params]
    count = _count(sink, "ops.quarantine", where, params)
    sink.execute(
        f"UPDATE ops.quarantine SET raw_text = NULL, reason = reason || ? WHERE {where}",
        [ERASED_TEXT_NOTE, *params],
    )
    return [Action("ops", "quarantine", ("raw_text",), "redacted", count)]


def _count(sink: Sink, relation: str, where: str, params: Iterable[object]) -> int:
    return int(sink.fetch(f"SELECT count(*) FROM {relation} WHERE {where}", list(params))[0][0])


def _marks(values: list[str]) -> str:
    return ", ".join("?" for _ in values)
