"""Find a person's values anywhere in a DuckDB warehouse, independently of the erasure code."""

from __future__ import annotations

import re

import duckdb

from ronghe.identity.phones import parse_phone

SCANNED_SCHEMAS = (
    "raw",
    "ops",
    "identity",
    "staging",
    "intermediate",
    "unified",
    "marts_candidate",
    "marts",
)


def multi_record_member(con: duckdb.DuckDBPyConnection, exclude: set[str] = frozenset()) -> str:
    """A member key merged from a registered store card and an online account (MALL first)."""
    rows = con.execute(
        """
        select member_key
        from identity.member_xref
        where valid_to is null
        group by member_key
        having count(*) >= 2
            and count(
                case when source_system = 'POS_MEMBER' and source_record_id in (
                    select member_card_no from raw.pos_members
                ) then 1 end
            ) >= 1
            and count(case when source_system <> 'POS_MEMBER' then 1 end) >= 1
        order by count(case when source_system = 'MALL' then 1 end) desc, count(*) desc, member_key
        """
    ).fetchall()
    return next(key for (key,) in rows if key not in exclude)


def records_of(con: duckdb.DuckDBPyConnection, member_key: str) -> set[tuple[str, str]]:
    return set(
        con.execute(
            "select source_system, source_record_id from identity.member_xref "
            "where valid_to is null and member_key = ?",
            [member_key],
        ).fetchall()
    )


def personal_values(con: duckdb.DuckDBPyConnection, records: set[tuple[str, str]]) -> dict:
    """The distinctive values of these records as the sources sent them.

    Phones as their 11 national digits (found in any written form), e-mails
    and union_ids as text, ids as text, and names only when no other record
    carries the same name (a common name is not evidence of anything).
    """
    cards = sorted(r for s, r in records if s == "POS_MEMBER")
    buyers = sorted(r for s, r in records if s != "POS_MEMBER")
    phones, texts, names = set(), set(cards) | set(buyers), set()
    for card in cards:
        for name, phone in con.execute(
            "select name, phone from raw.pos_members where member_card_no = ?", [card]
        ).fetchall():
            names.add(name)
            phones.add(phone)
        for (phone,) in con.execute(
            "select member_phone from raw.pos_transactions where member_card_no = ?", [card]
        ).fetchall():
            phones.add(phone)
    for buyer in buyers:
        for name, phone, email, union_id in con.execute(
            "select name, phone, email, union_id from raw.ecom_customers where buyer_id = ? "
            "union all select buyer_name, buyer_phone, buyer_email, union_id "
            "from raw.ecom_orders where buyer_id = ?",
            [buyer, buyer],
        ).fetchall():
            names.add(name)
            phones.add(phone)
            texts.update(v for v in (email, union_id) if v)
    national = set()
    for phone in phones:
        parsed = parse_phone(phone) if phone else None
        if parsed is not None and parsed.e164 is not None:
            national.add(parsed.e164[-11:])
    unique_names = {n for n in names if n and _name_is_unique(con, n, cards, buyers)}
    return {"phones": national, "texts": texts | unique_names}


def _name_is_unique(con: duckdb.DuckDBPyConnection, name: str, cards: list, buyers: list) -> bool:
    others = con.execute(
        """
        select count(*) from (
            select member_card_no as id from raw.pos_members where name = ?
            union all select buyer_id from raw.ecom_customers where name = ?
            union all select buyer_id from raw.ecom_orders where buyer_name = ?
        ) where id not in (select unnest(?::varchar[]))
        """,
        [name, name, name, cards + buyers],
    ).fetchone()[0]
    return others == 0


def find_values(con: duckdb.DuckDBPyConnection, values: dict) -> dict[str, int]:
    """relation.column -> rows holding any of the values (empty when none is left)."""
    found: dict[str, int] = {}
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR' and table_schema in (select unnest(?::varchar[]))",
        [list(SCANNED_SCHEMAS)],
    ).fetchall()
    for schema, table, column in columns:
        ref = f'"{schema}"."{table}"."{column}"'
        # whole tokens: a card number inside another person's phone number is not theirs
        conditions = [f"regexp_matches(lower({ref}), ?)" for _ in values["texts"]]
        conditions += [
            f"strpos(regexp_replace({ref}, '[^0-9]', '', 'g'), ?) > 0" for _ in values["phones"]
        ]
        if not conditions:
            continue
        count = con.execute(
            f'select count(*) from "{schema}"."{table}" where {" or ".join(conditions)}',
            [*(_token(text) for text in values["texts"]), *values["phones"]],
        ).fetchone()[0]
        if count:
            found[f"{schema}.{table}.{column}"] = count
    return found


def _token(text: str) -> str:
    """A pattern matching `text` (lower-cased) not glued to other letters or digits."""
    return f"(^|[^0-9a-z]){re.escape(text.lower())}([^0-9a-z]|$)"
