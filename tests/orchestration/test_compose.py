"""docker-compose.airflow.yml, checked without a Docker engine: structure, config keys, secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ronghe.settings import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.airflow.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
AIRFLOW_COMPONENTS = {
    "airflow-api-server": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
# `${NAME}`, `${NAME:-default}`, `${NAME:?message}`; `$${...}` is a literal dollar.
_REFERENCE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Z0-9_]+)(?P<rest>[^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _env_example() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def test_every_component_runs_on_postgres_with_the_local_executor(compose) -> None:
    services = compose["services"]
    assert {"postgres", "airflow-init", *AIRFLOW_COMPONENTS} <= set(services)
    for name, command in AIRFLOW_COMPONENTS.items():
        service = services[name]
        assert service["command"] == ["airflow", command]
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert "@postgres:5432/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/ronghe/dags"
        assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
        assert "healthcheck" in service, name
        assert (
            service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        )
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert ".:/opt/ronghe:ro" in service["volumes"]
        assert any(volume.endswith(":/data/sources:ro") for volume in service["volumes"])
    assert "healthcheck" in services["postgres"]


def test_the_init_service_migrates_and_prepares_the_deployment(compose) -> None:
    init = compose["services"]["airflow-init"]
    script = init["command"][-1]
    assert "airflow db migrate" in script
    assert "python -m ronghe.orchestration.setup" in script
    assert init["restart"] == "no"
    assert (REPO_ROOT / "ronghe" / "orchestration" / "setup.py").is_file()


def test_every_airflow_setting_is_an_option_airflow_knows(compose) -> None:
    from airflow.configuration import conf

    known = conf.configuration_description
    env = compose["x-airflow-common"]["environment"]
    checked = 0
    for name in env:
        match = re.fullmatch(r"AIRFLOW__(?P<section>[A-Z_]+?)__(?P<key>[A-Z_]+)", name)
        if not match or match["section"] == "COSMOS":  # a provider's section, read by cosmos
            continue
        section, key = match["section"].lower(), match["key"].lower()
        assert key in known.get(section, {}).get("options", {}), f"{name} is not an Airflow option"
        checked += 1
    assert checked >= 10


def test_secrets_come_from_the_environment_and_are_documented(compose) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    documented = _env_example()
    required = {m["name"] for m in _REFERENCE.finditer(text) if not m["rest"].startswith(":-")}
    assert required, "the compose file reads its secrets from the environment"
    assert required <= set(documented), f"not in .env.example: {required - set(documented)}"
    for name in ("AIRFLOW_DB_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET"):
        assert documented[name] == "change-me"
    # Connections come from .env (env_file), never written into the compose file.
    for service in compose["services"].values():
        assert not any(key.startswith("AIRFLOW_CONN_") for key in service.get("environment", {}))
    assert compose["x-airflow-common"]["env_file"][0]["path"] == ".env"
    assert {"AIRFLOW_CONN_RONGHE_ERP", "AIRFLOW_CONN_RONGHE_ECOMMERCE_API"} <= set(documented)


def test_the_image_installs_the_locked_stack() -> None:
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "requirements.lock" in dockerfile
    assert re.search(r"^FROM python:3\.11", dockerfile, re.MULTILINE)
    compose_file = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert Path(compose_file["x-airflow-common"]["build"]["dockerfile"]) == Path(
        "deploy/Dockerfile"
    )
