"""Shared fixtures: a real PostgreSQL server and small generated estates."""

from __future__ import annotations

import pytest

from tests.support.postgres import PostgresServer, start_postgres, stop_postgres


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    server = start_postgres()
    yield server
    stop_postgres(server)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with end-to-end runs first, whole: with files spread over parallel
    workers (`make test`), a long file collected last would run alone at the end."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
