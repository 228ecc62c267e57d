"""Identity resolution: one member key per person, one SKU key per product.

`resolve(settings)` runs between the dbt staging/intermediate build and the
unified models; its state lives in schema `identity` (see `schema`).
"""

from __future__ import annotations

from typing import Any


def resolve(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """See `ronghe.identity.step.resolve` (imported lazily to keep CLI start-up fast)."""
    from ronghe.identity.step import resolve as _resolve

    return _resolve(*args, **kwargs)
