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
from functools import cached_property, lru_cache

import opencc
from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict

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

    @cached_property
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


def nickname_names(nickname: str, name: Name) -> bool | None:
    """True when a nickname built like a name comes from this name's given name, False
    when it comes from another given name, None when the comparison says nothing.

    Nicknames are often made from the holder's own given name: a pinyin
    handle (`zhiwei88`, `fei1214`, `ｍｉｎｇ７`) or a doubled character, bare or
    with a pet prefix or suffix (`伟伟`, `小伟伟`, `伟伟酱`). Such a nickname
    spelling someone else's given name is evidence against the pair. None when
    the comparison says nothing: the nickname is not built like a name
    (`tb123456`, `快乐的小猫`, `小小熊猫`), it spells only the surname, or the
    name is transliterated.
    """
    if not name.is_real or "·" in name.text:
        return None
    surname_length = 2 if name.text[:2] in COMPOUND else 1
    given = name.readings[surname_length:]
    doubled = _doubled_character(nickname)
    if doubled is not None:
        reading = _readings(doubled)
        return any(reading & char for char in given)
    syllables = _pinyin_handle(nickname)
    if not syllables:
        return None
    if any(_contains(segmentation, given) for segmentation in syllables):
        return True
    surname = name.readings[:surname_length]
    if any(len(s) == surname_length and _contains(s, surname) for s in syllables):
        return None
    return False


_PINYIN_HANDLE = re.compile(r"^([a-z]{2,})[0-9_.\-]*$")
_PET_PREFIXES = ("小", "阿")


def _doubled_character(nickname: str) -> str | None:
    """The character of a doubled-character pet name (`伟伟`, `小伟伟`, `伟伟酱`), else None."""
    core = nickname
    for suffix in _PET_SUFFIXES:
        core = core.removesuffix(suffix)
    if len(core) == 3 and core.startswith(_PET_PREFIXES):
        core = core[1:]
    if len(core) == 2 and core[0] == core[1] and _HAN.match(core):
        return core[0]
    return None


_MAX_HANDLE_SYLLABLES = 4


@lru_cache(maxsize=50_000)
def _pinyin_handle(nickname: str) -> tuple[tuple[str, ...], ...]:
    """Every way a latin handle's letters read as one to four pinyin syllables, or ()."""
    match = _PINYIN_HANDLE.match(nickname)
    if match is None:
        return ()
    return _segmentations(match[1], _MAX_HANDLE_SYLLABLES)


@lru_cache(maxsize=50_000)
def _segmentations(letters: str, budget: int) -> tuple[tuple[str, ...], ...]:
    """The readings of `letters` as at most `budget` syllables (bounded, so long
    strings of vowels cannot blow up)."""
    if not letters:
        return ((),)
    if budget == 0:
        return ()
    found = []
    for length in range(1, min(6, len(letters)) + 1):
        head = letters[:length]
        if head in _syllables():
            found += [(head, *rest) for rest in _segmentations(letters[length:], budget - 1)]
    return tuple(found)


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable a name can have (`zhang`, `lv`), from pypinyin's own
    dictionary; interjections without a vowel (`hm`, `ng`) are left out."""
    toned = {reading for value in pinyin_dict.values() for reading in value.split(",")}
    return frozenset(
        s for s in map(to_normal, toned) if s.isascii() and any(v in s for v in "aeiouv")
    )


def _contains(syllables: tuple[str, ...], chars: tuple[frozenset[str], ...]) -> bool:
    """Whether the syllables hold the characters' readings, consecutively."""
    width = len(chars)
    return width > 0 and any(
        all(syllables[start + k] in chars[k] for k in range(width))
        for start in range(len(syllables) - width + 1)
    )
