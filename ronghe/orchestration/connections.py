"""Settings for a task: the environment, with endpoints from Airflow connections when set.

In a deployment the ERP database and the e-commerce API are Airflow
connections (`AIRFLOW_CONN_RONGHE_ERP`, `AIRFLOW_CONN_RONGHE_ECOMMERCE_API`,
or any secrets backend); without them the tasks use the environment
variables of `ronghe.settings` (RONGHE_ERP_URL, RONGHE_ECOM_API_URL,
RONGHE_ECOM_API_TOKEN), which is how `ronghe run` works. A connection wins
over the environment when both are set.

- `ronghe_erp`: any SQLAlchemy database; `postgresql://user:pass@host:5432/erp`
  or `sqlite:////srv/erp/erp.db`, or a `sqlalchemy_url` in the extra.
- `ronghe_ecommerce_api`: `https://:TOKEN@api.example.com` (the token is the
  password; a path after the host is the API's base path).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from ronghe.settings import Settings, load_settings

log = logging.getLogger(__name__)

ERP_CONN_ID = "ronghe_erp"
ECOMMERCE_API_CONN_ID = "ronghe_ecommerce_api"

# Airflow connection types whose SQLAlchemy dialect has another name.
_DIALECTS = {"postgres": "postgresql"}
_WEB_SCHEMES = ("http", "https")


def sqlalchemy_url(connection: Any) -> str:
    """The SQLAlchemy URL an Airflow connection describes."""
    from sqlalchemy.engine import URL

    extra = connection.extra_dejson or {}
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    conn_type = connection.conn_type or ""
    if conn_type == "sqlite":
        return f"sqlite:///{connection.schema or connection.host}"
    url = URL.create(
        drivername=_DIALECTS.get(conn_type, conn_type),
        username=connection.login or None,
        password=connection.password or None,
        host=connection.host or None,
        port=connection.port or None,
        database=connection.schema or None,
    )
    return url.render_as_string(hide_password=False)


def api_base_url(connection: Any) -> str:
    """The base URL of an HTTP API connection (without a trailing slash)."""
    host = (connection.host or "").rstrip("/")
    if host.startswith(tuple(f"{scheme}://" for scheme in _WEB_SCHEMES)):
        return host
    schema = connection.schema or ""
    # HttpHook's convention puts the protocol in `schema`; a URI puts it in the type.
    if schema in _WEB_SCHEMES:
        protocol, path = schema, ""
    else:
        protocol = connection.conn_type if connection.conn_type in _WEB_SCHEMES else "https"
        path = f"/{schema.strip('/')}" if schema else ""
    port = f":{connection.port}" if connection.port else ""
    return f"{protocol}://{host}{port}{path}"


def _connection(conn_id: str) -> Any | None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def task_settings() -> Settings:
    """The settings a task runs with (see the module docstring for the precedence)."""
    settings = load_settings()
    erp = _connection(ERP_CONN_ID)
    if erp is not None:
        log.info("ERP database from Airflow connection %s", ERP_CONN_ID)
        settings = dataclasses.replace(settings, erp_url=sqlalchemy_url(erp))
    api = _connection(ECOMMERCE_API_CONN_ID)
    if api is not None:
        log.info("e-commerce API from Airflow connection %s", ECOMMERCE_API_CONN_ID)
        settings = dataclasses.replace(
            settings,
            ecom_api_url=api_base_url(api),
            ecom_api_token=api.password or settings.ecom_api_token,
        )
    return settings
