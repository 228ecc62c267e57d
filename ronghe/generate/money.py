"""Amounts are integer fen (cents) inside the generator and yuan with two decimals outside."""

from __future__ import annotations


def yuan(fen: int) -> str:
    """`1234` -> `12.34`, `-5` -> `-0.05`."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"
