"""Generated estates for tests: one per distinct argument set, generated once per session.

Other test packages can use `estate_factory` too (import it in their own
conftest or use the fixture through pytest's plugin lookup):

    def test_something(estate_factory):
        root = estate_factory(scale=0.01, seed=7, days=10)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from ronghe.generate import generate_estate

SMALL = {"scale": 0.01, "seed": 7, "days": 10}


@pytest.fixture(scope="session")
def estate_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """`estate_factory(scale=, seed=, days=, start_date=)` -> a shared, read-only estate root."""
    made: dict[tuple, Path] = {}

    def make(
        scale: float = 0.01, seed: int = 7, days: int = 10, start_date: date | None = None
    ) -> Path:
        key = (scale, seed, days, start_date)
        if key not in made:
            root = tmp_path_factory.mktemp(f"estate_sf{scale}_s{seed}_d{days}")
            generate_estate(root, scale, seed, days, start_date)
            made[key] = root
        return made[key]

    return make


@pytest.fixture(scope="session")
def small_estate(estate_factory: Callable[..., Path]) -> Path:
    """The estate most generator tests read: SF 0.01, 10 days."""
    return estate_factory(**SMALL)
