"""Deterministic random streams.

Every random decision draws from a stream named by the seed and a purpose
(`"person", 17` or `"day", 3, "orders"`). A stream never depends on how many
days the estate covers, which is what makes a longer estate extend a shorter
one exactly (the prefix property).
"""

from __future__ import annotations

import hashlib
from functools import cache

import numpy as np


def _words(parts: tuple[object, ...]) -> list[int]:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def stream(seed: int, *parts: object) -> np.random.Generator:
    """A generator for one purpose; the same arguments always give the same draws."""
    entropy = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF, *_words(parts)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


_MASK64 = (1 << 64) - 1


def mix64(*values: int) -> int:
    """A well-mixed 64-bit hash of integers (splitmix64 chained); cheap per call."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (v & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & _MASK64
        h ^= h >> 29
    return h


@cache
def _permute_keys(seed: int) -> tuple[int, ...]:
    return tuple(
        int(k) for k in np.random.default_rng(seed ^ 0x5EED_F00D).integers(1, 2**31, size=8)
    )


def permute8(indices: np.ndarray, seed: int) -> np.ndarray:
    """A seed-keyed permutation of [0, 10**8): distinct indices give distinct values."""
    idx = np.asarray(indices, dtype=np.int64)
    left, right = idx // _HALF % _HALF, idx % _HALF
    for key in _permute_keys(seed):
        left, right = right, (left + (right * 2_654_435_761 + key) % 1_000_003) % _HALF
    return left * _HALF + right


def permute8_one(index: int, seed: int) -> int:
    """`permute8` for one index, without numpy overhead."""
    left, right = index // _HALF % _HALF, index % _HALF
    for key in _permute_keys(seed):
        left, right = right, (left + (right * 2_654_435_761 + key) % 1_000_003) % _HALF
    return left * _HALF + right


def pick(rng: np.random.Generator, cumulative: np.ndarray) -> int:
    """Index drawn with weights given as a cumulative array (faster than `choice(p=...)`)."""
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))


_HALF = 10_000
