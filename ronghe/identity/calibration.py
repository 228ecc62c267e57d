"""How much a masked phone is worth in this estate, measured from the estate itself.

A masked phone (`138****8000`) fits every phone with the same first three
and last four digits. Whether a marketplace buyer whose mask fits exactly one
known person *is* that person depends on two things no constant can know:

- how crowded the mask space is: the chance that a stranger's mask fits some
  known phone by accident is the number of known phones with that prefix
  over the 10,000 middle-digit combinations (it grows with the estate);
- how many marketplace buyers are known elsewhere at all: measured on the
  buyers who gave a real name, as the share whose masked phone and name
  match a known person.

Likewise an equivalent name with the same birth date (a person registering
again under a new phone) is weighed against how many people bear that name.

The measures are taken once and kept (table `identity.calibration`, per
configuration hash), so later runs, and a full re-resolution, weigh evidence
exactly as before: one more day of data must not move a decision that sat
on a threshold. `ronghe identity resolve --recalibrate` measures again (and
every merge or split that follows is logged as usual).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ronghe.identity.config import MemberRules
from ronghe.identity.names import names_equivalent
from ronghe.identity.records import MemberRecord

MASKED_DIGITS = 10_000
"""Middle-digit combinations a mask hides (four digits)."""


@dataclass(frozen=True)
class Calibration:
    known_buyer_share: float
    """Share of marketplace buyers who are also a known (full-phone, named) person."""
    known_buyer_sample: int
    """Named marketplace buyers the share was measured on (0: the configured default)."""
    collision_rate: dict[str, float]
    """Mask prefix -> expected number of known phones a stranger's mask fits by chance."""
    masked_collision_rate: dict[str, float]
    """`PLATFORM:prefix` -> expected number of masked accounts on the other platforms a
    stranger's mask fits by chance (one person has one account per platform)."""
    second_account_share: float
    """Share of marketplace buyers with another marketplace account under the same phone."""
    name_birth_coincidence: dict[str, float]
    """Pinyin of a name -> expected number of other people with that name born the same day."""

    def masked_phone_prior(self, mask_key: str) -> float:
        """P(a buyer is the one known person their mask fits), before other evidence."""
        share = self.known_buyer_share
        collisions = self.collision_rate.get(mask_key.split("-")[0], 0.0)
        return share / (share + (1.0 - share) * collisions) if collisions else 1.0 - 1e-6

    def masked_phones_prior(self, mask_key: str, platforms: tuple[str, str]) -> float:
        """P(two marketplace accounts on `platforms` whose masks fit each other are one person)."""
        share = self.second_account_share
        prefix = mask_key.split("-")[0]
        collisions = max(self.masked_collision_rate.get(f"{p}:{prefix}", 0.0) for p in platforms)
        return share / (share + (1.0 - share) * collisions) if collisions else 1.0 - 1e-6

    def name_birth_date_prior(self, pinyin_key: str, double_registration_share: float) -> float:
        """P(two records with an equivalent name and the same birth date are one person).

        A person registering again under a new phone (`double_registration_share`)
        against a stranger who happens to share name and birthday (rarer for a
        rare name; the estate's own name counts say how rare).
        """
        coincidence = self.name_birth_coincidence.get(pinyin_key, 0.0)
        share = double_registration_share
        return share / (share + coincidence) if coincidence else 1.0 - 1e-6


def to_json(calibration: Calibration) -> str:
    return json.dumps(asdict(calibration), sort_keys=True)


def from_json(text: str) -> Calibration:
    return Calibration(**json.loads(text))


def calibrate(records: Sequence[MemberRecord], rules: MemberRules) -> Calibration:
    share, sample = _known_buyer_share(records, rules)
    return Calibration(
        share,
        sample,
        collision_rate=_collision_rates(records),
        masked_collision_rate=_masked_collision_rates(records),
        second_account_share=_second_account_share(records, rules),
        name_birth_coincidence=_name_birth_coincidences(records),
    )


def _masked_collision_rates(records: Sequence[MemberRecord]) -> dict[str, float]:
    """Per platform and prefix, the distinct masks other platforms' accounts hold, over 10,000:
    an account is compared with accounts on other platforms only (`clustering`)."""
    masks: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in records:
        for mask in record.masks:
            masks[(record.source_system, mask.split("-")[0])].add(mask)
    platforms = {platform for platform, _ in masks}
    prefixes = {prefix for _, prefix in masks}
    rates = {}
    for platform in platforms:
        for prefix in prefixes:
            others = set().union(*(masks.get((p, prefix), set()) for p in platforms - {platform}))
            rates[f"{platform}:{prefix}"] = _two_digits(len(others) / MASKED_DIGITS)
    return rates


def _second_account_share(records: Sequence[MemberRecord], rules: MemberRules) -> float:
    """Measured on named marketplace buyers: the share whose mask and name match a masked
    account's on another platform (the configured `masked_phones` prior until enough are named)."""
    named = [r for r in records if r.masks and r.real_names and not r.phones]
    by_mask: dict[str, list[MemberRecord]] = defaultdict(list)
    for record in named:
        for mask in record.masks:
            by_mask[mask].append(record)
    if len(named) < rules.known_buyer_min_sample:
        return rules.prior["masked_phones"]
    matched = sum(
        1
        for record in named
        if any(
            other.source_system != record.source_system and names_equivalent(a, b)
            for mask in record.masks
            for other in by_mask[mask]
            for a in record.real_names
            for b in other.real_names
        )
    )
    return min(max(round(matched / len(named) * 20) / 20, 0.05), 0.95)


def _name_birth_coincidences(records: Sequence[MemberRecord]) -> dict[str, float]:
    """Per name, (records bearing it with a birth date - 1) / days birth dates spread over."""
    births = [r.birth_date for r in records if r.birth_date is not None]
    if not births:
        return {}
    span_days = max((max(births) - min(births)).days, 365)
    counts: dict[str, int] = defaultdict(int)
    for record in records:
        if record.birth_date is not None:
            for key in {name.pinyin_key for name in record.real_names}:
                counts[key] += 1
    return {key: _two_digits(max(count - 1, 1) / span_days) for key, count in counts.items()}


def _collision_rates(records: Sequence[MemberRecord]) -> dict[str, float]:
    phones_by_prefix: dict[str, set[str]] = defaultdict(set)
    for record in records:
        for e164, mask in record.phone_masks.items():
            phones_by_prefix[mask.split("-")[0]].add(e164)
    return {
        prefix: _two_digits(len(phones) / MASKED_DIGITS)
        for prefix, phones in phones_by_prefix.items()
    }


def _known_buyer_share(records: Sequence[MemberRecord], rules: MemberRules) -> tuple[float, int]:
    holders: dict[str, list[MemberRecord]] = defaultdict(list)
    for record in records:
        if record.real_names:
            for mask in set(record.phone_masks.values()):
                holders[mask].append(record)
    sample = matched = 0
    for record in records:
        if not (record.masks and record.real_names and not record.phones):
            continue
        sample += 1
        if any(
            names_equivalent(a, b)
            for mask in record.masks
            for holder in holders.get(mask, ())
            for a in record.real_names
            for b in holder.real_names
        ):
            matched += 1
    if sample < rules.known_buyer_min_sample:
        return rules.known_buyer_share, 0
    share = min(max(round(matched / sample * 20) / 20, 0.05), 0.95)
    return share, sample


def _two_digits(value: float) -> float:
    """`value` rounded to two significant digits (0 stays 0)."""
    if value <= 0:
        return 0.0
    return round(value, 1 - math.floor(math.log10(value)))
