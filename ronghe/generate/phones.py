"""Mobile numbers: unique by construction, written in the forms the sources use."""

from __future__ import annotations

import numpy as np

from ronghe.generate.streams import permute8

PREFIXES = (
    130,
    131,
    132,
    133,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    155,
    156,
    157,
    158,
    159,
    166,
    173,
    175,
    176,
    177,
    180,
    181,
    182,
    183,
    185,
    186,
    187,
    188,
    189,
    191,
    195,
    198,
    199,
)


def phone_numbers(indices: np.ndarray, seed: int) -> np.ndarray:
    """Distinct indices give distinct 11-digit numbers (int64), scattered over the number space.

    The eight digits after the prefix are a keyed permutation of the index, so
    no set of used numbers is needed even for millions of people.
    """
    idx = np.asarray(indices, dtype=np.int64)
    choice = (idx * 40_503 + seed) % 65_521 % len(PREFIXES)
    prefix = np.asarray(PREFIXES, dtype=np.int64)[choice]
    return prefix * 100_000_000 + permute8(idx, seed)


def format_phone(number: int, form: int) -> str:
    """The five forms phones take at the tills (form 0 is the plain number)."""
    s = str(number)
    if form == 1:
        return f"{s[:3]}-{s[3:7]}-{s[7:]}"
    if form == 2:
        return f"+86 {s}"
    if form == 3:
        return f"86-{s[:3]} {s[3:7]} {s[7:]}"
    if form == 4:
        return f"(+86){s[:3]} {s[3:7]} {s[7:]}"
    return s


PHONE_FORMS = 5


def masked(number: int) -> str:
    """Marketplace masking: `138****8000`."""
    s = str(number)
    return f"{s[:3]}****{s[7:]}"
