"""No secret is committed: connections and keys come from the environment only."""

from __future__ import annotations

import pytest

from ronghe.privacy.secrets import committed_env_files, scan_repository, scan_text
from ronghe.settings import REPO_ROOT


def test_the_repository_holds_no_secrets() -> None:
    assert [str(finding) for finding in scan_repository(REPO_ROOT)] == []


def test_no_env_file_is_committed() -> None:
    assert committed_env_files(REPO_ROOT) == []


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("config/x.yml", "password: hunter2-but-longer"),
        ("deploy/app.env", "RONGHE_PRIVACY_KEY=9f8e7d6c5b4a"),
        ("ronghe/x.py", 'URL = "postgresql://ronghe:s3cr3t-pw@db.internal:5432/ronghe"'),
        # written in pieces, so this file does not hold the shapes it tests
        ("ronghe/x.py", "AWS = 'AKIA" + "IOSFODNN7EXAMPLE'"),
        ("tests/x.py", "-----BEGIN RSA " + "PRIVATE KEY-----"),
        ("ronghe/x.py", "token = 'ghp_" + "a1B2" * 9 + "'"),
    ],
)
def test_secrets_are_found(path: str, line: str) -> None:
    assert scan_text(path, line), line


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("docker-compose.yml", 'POSTGRES_PASSWORD: "${AIRFLOW_DB_PASSWORD:?set it in .env}"'),
        (".env.example", "AIRFLOW_FERNET_KEY=change-me"),
        ("dbt_project/profiles.yml", "password: \"{{ env_var('RONGHE_PG_PASSWORD') }}\""),
        ("docs/x.md", "`postgresql://user:pass@host:5432/erp`"),
        ("ronghe/x.py", 'f"https://:{TOKEN}@api.example.com"'),
        ("tests/x.py", 'url = "https://:s3cret@api.example.com/shop"'),
    ],
)
def test_placeholders_and_test_credentials_are_not_secrets(path: str, line: str) -> None:
    assert scan_text(path, line) == []
