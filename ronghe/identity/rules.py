"""What two records' evidence says about whether they are one person.

Three outcomes:

- a **deterministic** match, when a strong key is shared: the same WeChat
  union_id, or the same e-mail / full phone / masked phone / member card
  (shown when collecting the buyer's online order, or used at a till to
  redeem the buyer's coupon) together with an equivalent real name (exact
  after normalisation, or a homophone);
- a **scored** pair, when the records share a contact but at least one has no
  real name (a marketplace nickname), or when they share only an equivalent
  name and a birth date: a Fellegi-Sunter probability from a prior (the
  configured one, or for a masked phone the estate's own measure, see
  `calibration`) and the configured m/u evidence;
- a **conflict**, when they disagree on something a person has only one of
  (real name, birth date, gender, union_id): never merged on a shared phone,
  which is how family members sharing a phone and re-assigned numbers stay
  apart.

A verdict depends on the two records, the configuration and the calibration; which
cluster a record joins (and whether a scored pair is unambiguous) is decided
in `ronghe.identity.clustering`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ronghe.identity.calibration import Calibration
from ronghe.identity.config import MemberRules
from ronghe.identity.names import names_equivalent, nickname_names
from ronghe.identity.records import MemberRecord

DETERMINISTIC = "deterministic"
SCORED = "scored"
CONFLICT = "conflict"

# Deterministic rules, strongest first; clustering applies them in this order.
DETERMINISTIC_RULES = (
    "union_id",
    "email_name",
    "phone_name",
    "phone_homophone",
    "masked_phone_name",
    "pickup_card_name",
    "coupon_card_name",
)
SCORED_RULES = (
    "phone", "email", "pickup_card", "coupon_card", "masked_phone", "masked_phones",
    "name_birth_date",
)  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing two records."""

    kind: str
    """DETERMINISTIC, SCORED or CONFLICT."""
    rule: str
    """The rule that decided (for conflicts: the first disagreement)."""
    probability: float
    """1.0 for deterministic matches, 0.0 for conflicts, the posterior otherwise."""
    via: tuple[str, str] | None = None
    """The shared contact behind a phone rule: ("phone", e164) or ("mask", key)."""
    evidence: dict[str, Any] = field(default_factory=dict)


def compare(
    left: MemberRecord, right: MemberRecord, rules: MemberRules, calibration: Calibration
) -> Verdict | None:
    """The verdict on a candidate pair, or None when nothing links them."""
    name_relation = _name_relation(left, right)
    shared_union_ids = left.union_ids & right.union_ids
    conflicts = _conflicts(left, right, name_relation)
    if shared_union_ids:
        evidence = {"union_id": sorted(shared_union_ids)[0]}
        if conflicts:
            return Verdict(CONFLICT, conflicts[0], 0.0, None, {**evidence, "conflicts": conflicts})
        return Verdict(DETERMINISTIC, "union_id", 1.0, None, evidence)
    if conflicts:
        return Verdict(CONFLICT, conflicts[0], 0.0, None, {"conflicts": conflicts})

    shared_emails = sorted(left.emails & right.emails)
    shared_phones = sorted(left.phones.keys() & right.phones.keys())
    shared_masks = _shared_masks(left, right)
    shared_cards = left.cards & right.cards
    # a coupon card is compared with the other side's own and pick-up cards
    shared_coupon_cards = (left.coupon_cards & right.cards) | (right.coupon_cards & left.cards)
    if name_relation is not None:
        evidence: dict[str, Any] = {"name": name_relation}
        if shared_emails:
            return Verdict(DETERMINISTIC, "email_name", 1.0, None, {**evidence, "email": 1})
        if shared_phones:
            rule = "phone_name" if name_relation == "exact" else "phone_homophone"
            return Verdict(DETERMINISTIC, rule, 1.0, ("phone", shared_phones[0]), evidence)
        if shared_masks:
            via = ("mask", shared_masks[0])
            return Verdict(DETERMINISTIC, "masked_phone_name", 1.0, via, evidence)
        if shared_cards:
            return Verdict(DETERMINISTIC, "pickup_card_name", 1.0, None, evidence)
        if shared_coupon_cards:
            return Verdict(DETERMINISTIC, "coupon_card_name", 1.0, None, evidence)
        if left.birth_date is not None and left.birth_date == right.birth_date:
            key = min(name.pinyin_key for name in left.real_names)
            prior = calibration.name_birth_date_prior(key, rules.double_registration_share)
            evidence["birth"] = 1
            return _scored("name_birth_date", None, prior, left, right, rules, evidence)
        return None

    if shared_phones:
        via = ("phone", shared_phones[0])
        return _scored("phone", via, rules.prior["phone"], left, right, rules, {})
    if shared_emails:
        return _scored("email", None, rules.prior["email"], left, right, rules, {})
    if shared_cards:
        return _scored("pickup_card", None, rules.prior["pickup_card"], left, right, rules, {})
    if shared_coupon_cards:
        return _scored("coupon_card", None, rules.prior["coupon_card"], left, right, rules, {})
    if shared_masks:
        mask = shared_masks[0]
        if mask in left.masks and mask in right.masks:
            platforms = (left.source_system, right.source_system)
            prior = calibration.masked_phones_prior(mask, platforms)
            return _scored("masked_phones", ("mask", mask), prior, left, right, rules, {})
        prior = calibration.masked_phone_prior(mask)
        return _scored("masked_phone", ("mask", mask), prior, left, right, rules, {})
    return None


def _name_relation(left: MemberRecord, right: MemberRecord) -> str | None:
    best = None
    for a in left.real_names:
        for b in right.real_names:
            relation = names_equivalent(a, b)
            if relation == "exact":
                return relation
            best = best or relation
    return best


def _conflicts(left: MemberRecord, right: MemberRecord, name_relation: str | None) -> list[str]:
    conflicts = []
    if left.real_names and right.real_names and name_relation is None:
        conflicts.append("name_differs")
    if left.birth_date and right.birth_date and left.birth_date != right.birth_date:
        conflicts.append("birth_date_differs")
    if left.gender and right.gender and left.gender != right.gender:
        conflicts.append("gender_differs")
    if left.union_ids and right.union_ids and not left.union_ids & right.union_ids:
        conflicts.append("union_id_differs")
    return conflicts


def _shared_masks(left: MemberRecord, right: MemberRecord) -> list[str]:
    """Mask keys where a masked phone on one side fits a phone on the other."""
    left_all = left.masks.keys() | set(left.phone_masks.values())
    right_all = right.masks.keys() | set(right.phone_masks.values())
    return sorted((left.masks.keys() & right_all) | (right.masks.keys() & left_all))


def _scored(
    rule: str,
    via: tuple[str, str] | None,
    prior: float,
    left: MemberRecord,
    right: MemberRecord,
    rules: MemberRules,
    evidence: dict[str, Any],
) -> Verdict:
    odds = prior / (1.0 - prior)
    observed = dict(evidence)
    for name, agrees in _comparisons(left, right, rule).items():
        factor = rules.evidence[name]
        odds *= factor.agree_factor if agrees else factor.disagree_factor
        observed[name] = int(agrees)
    return Verdict(SCORED, rule, odds / (1.0 + odds), via, observed)


def _comparisons(left: MemberRecord, right: MemberRecord, rule: str) -> dict[str, bool]:
    """Evidence beyond the candidate key, for the pieces both records carry."""
    found: dict[str, bool] = {}
    if left.cities and right.cities:
        found["city"] = bool(left.cities & right.cities)
    if left.nicknames and right.nicknames:
        found["nickname"] = bool(left.nicknames & right.nicknames)
    built_from = _nickname_names(left, right)
    if built_from is not None:
        found["nickname_name"] = built_from
    if left.gender and right.gender:
        found["gender"] = left.gender == right.gender
    if rule != "email" and left.emails and right.emails:
        found["email"] = bool(left.emails & right.emails)
    return found


def _nickname_names(left: MemberRecord, right: MemberRecord) -> bool | None:
    """Is one side's nickname built from the other side's given name? None when no
    nickname is built like a name (see `names.nickname_names`)."""
    verdicts = [
        nickname_names(nickname, name)
        for nicknamed, named in ((left, right), (right, left))
        for nickname in nicknamed.nicknames
        for name in named.real_names
    ]
    known = [v for v in verdicts if v is not None]
    return any(known) if known else None
