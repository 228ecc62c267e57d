"""Identifiers of a person, normalised and turned into keyed hashes.

The erasure register never holds a personal value: only HMAC-SHA256 digests
under the key from `RONGHE_PRIVACY_KEY`, which is never committed. Without the
key nobody can test a guessed phone number against the register, and with it
the pipeline recognises an erased person's identifiers when they arrive again.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from ronghe.identity.phones import parse_phone
from ronghe.settings import Settings

PSEUDONYM_PREFIX = "ERASED-"
"""Record ids of erased people start with this (e.g. `ERASED-3f9a...`)."""

_EMAIL = re.compile(r"[^\s@,;\"'<>{}\[\]]+@[^\s@,;\"'<>{}\[\]]+\.[A-Za-z]{2,}")
_PHONE_LIKE = re.compile(r"[+(（]?\d[\d\s()（）+\-]{7,20}\d")
_WORD = re.compile(r"[0-9A-Za-z_\-]{4,}")


class PrivacyKeyMissing(RuntimeError):
    """Erasures exist (or are requested) but RONGHE_PRIVACY_KEY is not set."""


def privacy_key(settings: Settings) -> bytes:
    """The configured hashing key (bytes); a clear error when it is missing."""
    if not settings.privacy_key:
        raise PrivacyKeyMissing(
            "RONGHE_PRIVACY_KEY is not set: erased people are recognised by keyed hashes; "
            "set it (a long random secret, the same for every run) in the environment"
        )
    return settings.privacy_key.encode("utf-8")


def normalise(category: str, value: str | None) -> str | None:
    """The comparable form of an identifier (E.164 phone, lower-case e-mail), or None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.startswith(PSEUDONYM_PREFIX):
        return None
    if category == "phone":
        phone = parse_phone(text)
        return phone.e164 if phone is not None else None
    if category == "email":
        return text.lower() if "@" in text else None
    return text


def keyed_hash(key: bytes, category: str, normalised: str) -> str:
    """HMAC-SHA256 of a normalised identifier, domain-separated by its category."""
    return hmac.new(key, f"{category}\x1f{normalised}".encode(), hashlib.sha256).hexdigest()


def pseudonym(key: bytes, record_id: str) -> str:
    """The stable replacement of an erased person's card number or buyer id (idempotent)."""
    if record_id.startswith(PSEUDONYM_PREFIX):
        return record_id
    return PSEUDONYM_PREFIX + keyed_hash(key, "pseudonym", record_id)[:20]


def candidates_in_text(text: str) -> set[tuple[str, str]]:
    """(category, normalised value) of every identifier-shaped token in free text.

    Used on quarantined raw text, where a row may be malformed: e-mails and
    phones are found by shape (in any of the contract's phone forms), ids as words.
    """
    found: set[tuple[str, str]] = set()
    for match in _EMAIL.finditer(text):
        found.add(("email", match.group(0).lower()))
    for match in _PHONE_LIKE.finditer(text):
        phone = parse_phone(match.group(0))
        if phone is not None and phone.e164 is not None:
            found.add(("phone", phone.e164))
    for match in _WORD.finditer(text):
        for category in ("customer_id", "online_identifier"):
            found.add((category, match.group(0)))
    return found
