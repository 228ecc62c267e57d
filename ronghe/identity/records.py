"""Customer and member records with their normalised evidence.

A record is one POS member card or one e-commerce buyer account (CONTRACT.md
section 6). Its evidence comes from two inputs built by the dbt models in
`models/intermediate/identity/`:

- `int_member_records_unioned`: one row per record (registration facts:
  gender, birth date, when and where it was registered);
- `int_member_contacts_observed`: every distinct name, phone, e-mail,
  union_id, city and member card the record was seen with, where
  (`evidence_source`: REGISTRATION, TILL, ORDER, PICKUP, COUPON) and when (first and
  last time).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from ronghe.identity.emails import normalise_email
from ronghe.identity.names import Name, normalise_name
from ronghe.identity.phones import parse_phone

RecordId = tuple[str, str]
"""(source_system, source_record_id)"""

Span = tuple[datetime, datetime]
"""First and last time a piece of evidence was seen."""

# Names and phones at the till and on orders are typed by or for the customer;
# a name on an order is only used when the account itself has no real name
# (marketplace accounts carry nicknames, their orders the recipient's name).
RECORD_COLUMNS = (
    "source_system",
    "source_record_id",
    "gender",
    "birth_date",
    "registered_at",
    "registered_store",
    "updated_at",
)
CONTACT_COLUMNS = (
    "source_system",
    "source_record_id",
    "evidence_source",
    "name",
    "phone",
    "email",
    "union_id",
    "city",
    "card_no",
    "first_seen_at",
    "last_seen_at",
)


@dataclass(slots=True)
class MemberRecord:
    """Everything known about one source record, normalised for comparison."""

    source_system: str
    source_record_id: str
    gender: str | None = None
    birth_date: date | None = None
    registered_at: datetime | None = None
    real_names: tuple[Name, ...] = ()
    nicknames: frozenset[str] = frozenset()
    phones: dict[str, Span] = field(default_factory=dict)
    """Full phones (E.164) and when the record used them."""
    masks: dict[str, Span] = field(default_factory=dict)
    """Mask keys of masked phones only."""
    phone_masks: dict[str, str] = field(default_factory=dict)
    """The mask key of each full phone: what a masked phone can be compared with."""
    emails: frozenset[str] = frozenset()
    union_ids: frozenset[str] = frozenset()
    cities: frozenset[str] = frozenset()
    cards: frozenset[str] = frozenset()
    """Member cards: a POS record's own, or those shown when collecting a buyer's orders."""
    coupon_cards: frozenset[str] = frozenset()
    """Member cards a buyer's coupons were redeemed with at a till."""
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def record_id(self) -> RecordId:
        return (self.source_system, self.source_record_id)


def build_records(
    registrations: pd.DataFrame, contacts: pd.DataFrame, default_region: str = "CN"
) -> list[MemberRecord]:
    """One MemberRecord per registration row, sorted by record id.

    Contacts of records without a registration row create the record too:
    a buyer seen only on orders is still a customer record.
    """
    records: dict[RecordId, MemberRecord] = {}
    for row in registrations.itertuples(index=False):
        rid = (sys.intern(str(row.source_system)), str(row.source_record_id))
        gender = _text(row.gender)
        records[rid] = MemberRecord(
            source_system=rid[0],
            source_record_id=rid[1],
            gender=None if gender is None else sys.intern(gender),
            birth_date=_date(row.birth_date),
            registered_at=_timestamp(row.registered_at),
        )
    evidence: dict[RecordId, list[Any]] = defaultdict(list)
    for row in contacts.itertuples(index=False):
        evidence[(sys.intern(str(row.source_system)), str(row.source_record_id))].append(row)
    for rid, rows in evidence.items():
        record = records.get(rid)
        if record is None:
            record = records[rid] = MemberRecord(source_system=rid[0], source_record_id=rid[1])
        _apply_contacts(record, rows, default_region)
    return [records[rid] for rid in sorted(records)]


def _apply_contacts(record: MemberRecord, rows: Iterable[Any], region: str) -> None:
    account_names: list[Name] = []
    order_names: list[Name] = []
    nicknames: set[str] = set()
    phones: dict[str, Span] = {}
    phone_masks: dict[str, str] = {}
    masks: dict[str, Span] = {}
    pickup_phones: list[tuple[str, Span]] = []
    emails: set[str] = set()
    union_ids: set[str] = set()
    cities: set[str] = set()
    cards: set[str] = {record.source_record_id} if record.source_system == "POS_MEMBER" else set()
    coupon_cards: set[str] = set()
    first_seen, last_seen = record.registered_at, record.registered_at
    for row in rows:
        span = _span(row.first_seen_at, row.last_seen_at, record.registered_at)
        if span is not None:
            first_seen = min(filter(None, (first_seen, span[0])))
            last_seen = max(filter(None, (last_seen, span[1])))
        name = normalise_name(_text(row.name))
        if name is not None:
            if not name.is_real:
                nicknames.add(name.text)
            elif row.evidence_source in ("REGISTRATION", "TILL"):
                account_names.append(name)
            else:
                order_names.append(name)
        phone = parse_phone(_text(row.phone), region)
        if phone is not None and span is not None:
            if phone.is_masked:
                masks[phone.mask_key] = _widen(masks.get(phone.mask_key), span)
            elif row.evidence_source == "PICKUP":
                pickup_phones.append((phone, span))
            else:
                phones[phone.e164] = _widen(phones.get(phone.e164), span)
                phone_masks[phone.e164] = phone.mask_key
        email = normalise_email(_text(row.email))
        if email:
            emails.add(email)
        union_id = _text(row.union_id)
        if union_id:
            union_ids.add(union_id)
        city = _text(row.city)
        if city:
            cities.add(city)
        card = _text(row.card_no)
        if card:
            (coupon_cards if row.evidence_source == "COUPON" else cards).add(card)
    # A phone given at an online order's pick-up only counts when it fits the
    # account's own (masked) phone: someone else may collect the order.
    for phone, span in pickup_phones:
        if phone.mask_key in masks or phone.e164 in phones:
            phones[phone.e164] = _widen(phones.get(phone.e164), span)
            phone_masks[phone.e164] = phone.mask_key
    record.real_names = _distinct(account_names or order_names)
    record.nicknames = frozen(nicknames)
    record.phones = phones
    record.masks = masks
    record.phone_masks = phone_masks
    record.emails = frozen(emails)
    record.union_ids = frozen(union_ids)
    record.cities = city_set(cities)
    record.cards = frozen(cards)
    record.coupon_cards = frozen(coupon_cards)
    record.first_seen, record.last_seen = first_seen, last_seen


_NOTHING: frozenset[str] = frozenset()
_CITY_SETS: dict[frozenset[str], frozenset[str]] = {}


def frozen(values: Iterable[str]) -> frozenset[str]:
    """The values as a frozenset; every empty one is the same object.

    A set takes over 200 bytes even when empty; a record has six, most of
    them empty, which at scale factor 10 (700,000 records) was most of a
    gigabyte of empty sets.
    """
    found = frozenset(values)
    return found if found else _NOTHING


def city_set(cities: Iterable[str]) -> frozenset[str]:
    """A record's cities, one shared set per distinct combination: there are few cities."""
    found = frozen(cities)
    return _CITY_SETS.setdefault(found, found)


def _distinct(names: list[Name]) -> tuple[Name, ...]:
    seen: dict[str, Name] = {}
    for name in names:
        seen.setdefault(name.text, name)
    return tuple(seen[text] for text in sorted(seen))


def _widen(current: Span | None, span: Span) -> Span:
    if current is None:
        return span
    return (min(current[0], span[0]), max(current[1], span[1]))


def _span(first: Any, last: Any, fallback: datetime | None) -> Span | None:
    start = _timestamp(first) or _timestamp(last) or fallback
    end = _timestamp(last) or start
    if start is None or end is None:
        return None
    return (min(start, end), max(start, end))


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _date(value: Any) -> date | None:
    if value is None or pd.isna(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def _timestamp(value: Any) -> datetime | None:
    # the common case first: a naive timestamp as the warehouse returns it
    if isinstance(value, datetime) and value.tzinfo is None and value is not pd.NaT:
        return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()
