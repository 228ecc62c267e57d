"""Personal names as identity evidence.

The same person's name arrives written differently across systems: with
spaces (`张 伟`), in full-width characters, in traditional script (`張偉`), or
with a homophone typed by mistake (`章伟`). Normalisation removes the first
three differences exactly; homophones are compared through their toneless
pinyin readings. Marketplace buyers often carry a nickname instead of a name;
a nickname says nothing about who someone is, so it is kept apart from real
names and never counted as a name conflict.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin, pinyin

from ronghe.identity.surnames import COMPOUND, starts_with_surname

_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")
_MIDDLE_DOTS = re.compile(r"[•・‧∙⋅·．.]")
_WHITESPACE = re.compile(r"\s+")
_converter = opencc.OpenCC("t2s")
_PET_SUFFIXES = ("酱", "宝宝", "同学")


@dataclass(frozen=True)
class Name:
    """A normalised name: its text, whether it is a real name, and its readings."""

    text: str
    is_real: bool
    readings: tuple[frozenset[str], ...] = ()
    """For real names: the toneless pinyin readings of each character."""
    given_pinyin: str = ""
    """For real names: the usual pinyin of the given name (`志伟` -> `zhiwei`)."""

    @property
    def pinyin_key(self) -> str:
        """One reading per character, joined: equal for most homophones (used for blocking)."""
        return "".join(sorted(reading)[0] for reading in self.readings)


@lru_cache(maxsize=200_000)
def normalise_name(value: str | None) -> Name | None:
    """The normalised name, or None when the value is empty."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    text = _MIDDLE_DOTS.sub("·", text)
    compact = _WHITESPACE.sub("", text)
    if all(_HAN.match(part) for part in compact.split("·")):
        simplified = _converter.convert(compact)
        if _looks_like_real_name(simplified):
            readings = tuple(_readings(char) for char in simplified if char != "·")
            return Name(simplified, True, readings, _given_pinyin(simplified))
        return Name(simplified, False)
    return Name(_WHITESPACE.sub(" ", text).lower(), False)


def _looks_like_real_name(name: str) -> bool:
    """Han names of the usual shape: a surname plus one or two given characters.

    Names written with a middle dot (transliterated names of minority or
    foreign origin) are taken as real without a surname check.
    """
    if "·" in name:
        return all(name.split("·"))
    # pet-name shapes: a doubled first character (`成成`, `宁宁酱`), or the
    # diminutive suffixes used online
    if name[0] == name[1] or name.endswith(_PET_SUFFIXES):
        return False
    if name[:2] in COMPOUND:
        return 3 <= len(name) <= 4
    return 2 <= len(name) <= 3 and starts_with_surname(name)


@lru_cache(maxsize=200_000)
def _given_pinyin(name: str) -> str:
    if "·" in name:
        given = name.split("·")[0]
    elif name[:2] in COMPOUND:
        given = name[2:]
    else:
        given = name[1:]
    return "".join(lazy_pinyin(given, style=Style.NORMAL))


@lru_cache(maxsize=20_000)
def _readings(char: str) -> frozenset[str]:
    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True)[0])


def names_equivalent(left: Name, right: Name) -> str | None:
    """How two real names agree: "exact", "homophone", or None when they differ.

    Homophones must have the same length and share a reading at every
    position; nicknames are never equivalent to anything by this test.
    """
    if not (left.is_real and right.is_real):
        return None
    if left.text == right.text:
        return "exact"
    if len(left.readings) != len(right.readings):
        return None
    if all(a & b for a, b in zip(left.readings, right.readings, strict=True)):
        return "homophone"
    return None


def nickname_spells(nickname: str, name: Name) -> bool | None:
    """Whether a latin-letter nickname spells the given name's pinyin (`zhiwei88` for 张志伟).

    None when the comparison says nothing: the nickname has fewer than four
    letters (`tb123`, `小可爱`), or the given name is a single syllable.
    """
    letters = "".join(char for char in nickname.lower() if "a" <= char <= "z")
    if len(letters) < 4 or len(name.readings) < 3 or not name.given_pinyin:
        return None
    return name.given_pinyin in letters
