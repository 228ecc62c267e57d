"""Phone numbers as identity evidence: full numbers to E.164, masked ones to partial keys.

Tills type phones in any of five forms (`13800138000`, `138-0013-8000`,
`+86 13800138000`, `86-138 0013 8000`, `(+86)138 0013 8000`); marketplaces
send them masked (`138****8000`). A full number becomes its E.164 form; both a
full and a masked number yield a *mask key* (first three and last four digits
of the national number), the only part a masked phone can be compared on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

_MASK_CHARS = "*＊xX×"
_MASKED = re.compile(r"^(?P<prefix>\d{3})[*＊xX×]{3,6}(?P<suffix>\d{4})$")
_SEPARATORS = re.compile(r"[\s\-()（）.·]+")
# An 11-digit national number starting with 1 is a mainland mobile even when
# its block is newer than the phone library's metadata.
_MOBILE_SHAPED = re.compile(r"^1\d{10}$")
_MAINLAND_MOBILE = re.compile(r"^(?:\+86|0086|86)?(?P<national>1\d{10})$")


@dataclass(frozen=True)
class Phone:
    """One phone value: the full E.164 number (None when masked) and its mask key."""

    e164: str | None
    mask_key: str

    @property
    def is_masked(self) -> bool:
        return self.e164 is None


def mask_key(prefix: str, suffix: str) -> str:
    """The comparable part of a mobile number: first three and last four national digits."""
    return f"{prefix}-{suffix}"


@lru_cache(maxsize=200_000)
def parse_phone(value: str | None, default_region: str = "CN") -> Phone | None:
    """A phone as evidence, or None when the value is empty or not a phone number.

    A masked value (`138****8000`, optionally with a country code) yields a
    Phone without E.164. Numbers that are neither valid for their country nor
    shaped like a mainland mobile are rejected rather than guessed at.
    """
    if value is None:
        return None
    text = _SEPARATORS.sub("", str(value).strip())
    if not text:
        return None
    if any(char in text for char in _MASK_CHARS):
        return _parse_masked(text)
    mobile = _MAINLAND_MOBILE.match(text)
    if mobile is not None and (default_region == "CN" or len(text) > 11):
        # the common case, decided without the full parser: a mainland mobile
        # (typed with a country code, or without one in a mainland estate)
        national = mobile["national"]
        return Phone(e164=f"+86{national}", mask_key=mask_key(national[:3], national[-4:]))
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    national = str(number.national_number)
    mobile_shaped = number.country_code == 86 and _MOBILE_SHAPED.match(national)
    if not (phonenumbers.is_valid_number(number) or mobile_shaped):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164=e164, mask_key=mask_key(national[:3], national[-4:]))


def _parse_masked(text: str) -> Phone | None:
    for country_code in ("+86", "0086", "86"):
        if text.startswith(country_code) and len(text) > 11:
            text = text[len(country_code) :]
            break
    match = _MASKED.match(text)
    if match is None:
        return None
    return Phone(e164=None, mask_key=mask_key(match["prefix"], match["suffix"]))
