"""EAN-13 barcodes: check digits, and restoring the leading zeros a till dropped.

Vendor B's tills keep barcodes in a numeric column, so `0690...` arrives as
`690...`. Padding with zeros alone could turn any short code into something
barcode-shaped; a code is restored only when the padded form carries a valid
EAN-13 check digit *and* is a barcode some master data knows.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"^\d+$")
_FLOAT_TAIL = re.compile(r"\.0+$")


def ean13_valid(code: str) -> bool:
    """True for 13 digits whose last digit is the EAN-13 check digit of the first 12."""
    if len(code) != 13 or not _DIGITS.match(code):
        return False
    return ean13_check_digit(code[:12]) == int(code[12])


def ean13_check_digit(first12: str) -> int:
    """The check digit for twelve digits: weights 1 and 3 alternating from the left."""
    total = sum(int(d) * (3 if position % 2 else 1) for position, d in enumerate(first12))
    return (10 - total % 10) % 10


def barcode_digits(value: str | None) -> str | None:
    """The digits of a barcode as sent (a numeric export may add `.0`), or None."""
    if value is None:
        return None
    text = _FLOAT_TAIL.sub("", str(value).strip())
    return text if _DIGITS.match(text) else None


def restore_barcode(value: str | None, known: set[str] | frozenset[str]) -> tuple[str, str] | None:
    """The known 13-digit barcode a till code stands for, and how it was found.

    Returns (barcode, "exact") when the code is a known barcode as sent,
    (barcode, "zeros_restored") when zero-padding it to 13 digits gives a
    known barcode with a valid check digit, and None otherwise.
    """
    digits = barcode_digits(value)
    if digits is None:
        return None
    if digits in known:
        return digits, "exact"
    if len(digits) < 13:
        padded = digits.zfill(13)
        if ean13_valid(padded) and padded in known:
            return padded, "zeros_restored"
    return None


def canonical_barcode(value: str | None) -> str | None:
    """A barcode's 13-digit form when one can be justified without master data.

    A 13-digit code is its own form; a shorter one is padded only when the
    padded form has a valid check digit (unknown barcodes stay comparable
    across sources until the master learns them).
    """
    digits = barcode_digits(value)
    if digits is None:
        return None
    if len(digits) == 13:
        return digits
    if len(digits) < 13 and ean13_valid(digits.zfill(13)):
        return digits.zfill(13)
    return digits
