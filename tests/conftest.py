"""Shared fixtures: a real PostgreSQL server and small generated estates."""

from __future__ import annotations

import pytest

from tests.support.postgres import PostgresServer, start_postgres, stop_postgres


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    server = start_postgres()
    yield server
    stop_postgres(server)
