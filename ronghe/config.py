"""The reviewed configuration file (`config/ronghe.yml`), read once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ronghe.settings import load_settings


@lru_cache(maxsize=4)
def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The whole configuration; `path` defaults to the `RONGHE_CONFIG` setting."""
    return _read((path or load_settings().config_path).resolve())


def section(name: str, path: Path | None = None) -> dict[str, Any]:
    """One top-level section, e.g. `business_rules`; a missing section is an error."""
    config = load_config(path)
    if name not in config:
        raise KeyError(f"configuration has no section {name!r}")
    return config[name]
