"""E-mail addresses as identity evidence: compared case-insensitively, without whitespace."""

from __future__ import annotations

import re
import unicodedata

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str | None) -> str | None:
    """The comparable form of an address, or None when empty or not an address."""
    if value is None:
        return None
    text = "".join(unicodedata.normalize("NFKC", str(value)).split()).lower()
    return text if _EMAIL.match(text) else None
