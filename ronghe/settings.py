"""Where things are: every location and connection comes from the environment.

Each setting has one environment variable. Commands (`ronghe run`, the DAGs,
the tests) set these for the processes they start; nothing else reads the
environment directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment-driven settings."""

    home: Path
    """Working directory for Airflow's home, run logs, lineage events and reports."""
    sources_dir: Path | None
    """Root of a source drop (`SOURCES_DIR` in the contract); None when not configured."""
    warehouse: str
    """A DuckDB file path, or a `postgresql://` URL for the served warehouse."""
    erp_url: str | None
    """SQLAlchemy URL of the ERP database."""
    ecom_api_url: str | None
    """Base URL of the e-commerce API (without `/v1`)."""
    ecom_api_token: str | None
    config_path: Path
    """The business-rules and thresholds file."""
    lineage_url: str | None = None
    """An OpenLineage HTTP endpoint (e.g. Marquez) that also receives every lineage event."""
    lineage_api_key: str | None = None
    privacy_key: str | None = None
    """Secret key of the keyed hashes that pseudonymise erased people (RONGHE_PRIVACY_KEY)."""

    @property
    def warehouse_is_postgres(self) -> bool:
        return self.warehouse.startswith(("postgresql://", "postgres://"))

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file; only meaningful when the warehouse is DuckDB."""
        if self.warehouse_is_postgres:
            raise ValueError("the warehouse is PostgreSQL, not a DuckDB file")
        return Path(self.warehouse)


def load_settings() -> Settings:
    home = _env_path("RONGHE_HOME", Path.cwd() / ".ronghe")
    sources = os.environ.get("RONGHE_SOURCES_DIR")
    sources_dir = Path(sources).expanduser().resolve() if sources else None
    warehouse = os.environ.get("RONGHE_WAREHOUSE") or str(home / "warehouse.duckdb")
    if not warehouse.startswith(("postgresql://", "postgres://")):
        warehouse = str(Path(warehouse).expanduser().resolve())
    erp_url = os.environ.get("RONGHE_ERP_URL")
    if not erp_url and sources_dir is not None:
        erp_url = f"sqlite:///{sources_dir / 'erp' / 'erp.db'}"
    return Settings(
        home=home,
        sources_dir=sources_dir,
        warehouse=warehouse,
        erp_url=erp_url,
        ecom_api_url=os.environ.get("RONGHE_ECOM_API_URL"),
        ecom_api_token=os.environ.get("RONGHE_ECOM_API_TOKEN"),
        config_path=_env_path("RONGHE_CONFIG", REPO_ROOT / "config" / "ronghe.yml"),
        lineage_url=os.environ.get("OPENLINEAGE_URL"),
        lineage_api_key=os.environ.get("OPENLINEAGE_API_KEY"),
        privacy_key=os.environ.get("RONGHE_PRIVACY_KEY"),
    )
