"""A real server over a small hand-built estate, and a client that walks pages."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from ronghe.ecommerce_api import RunningServer, start_server
from tests.support.ecommerce_estate import SmallEstate, build_small_estate


@pytest.fixture(scope="session")
def small_estate(tmp_path_factory) -> SmallEstate:
    return build_small_estate(tmp_path_factory.mktemp("ecommerce_estate"))


@pytest.fixture(scope="session")
def server(small_estate) -> RunningServer:
    with start_server(small_estate.root, token="test-token") as running:
        yield running


@pytest.fixture
def client(server) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.token}"
    yield session
    session.close()


def walk(session: requests.Session, url: str, params: dict) -> tuple[list[dict], int]:
    """Every object of a page walk and the number of pages it took."""
    rows: list[dict] = []
    pages = 0
    query = dict(params)
    while True:
        response = session.get(url, params=query, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["data"])
        pages += 1
        if body["next_cursor"] is None:
            return rows, pages
        query = {**params, "cursor": body["next_cursor"]}


def feed_order(records: list[dict], id_field: str, since: str | None = None) -> list[dict]:
    """The change feed the contract promises, computed independently of the server."""
    stamped = [
        (datetime.fromisoformat(record["updated_at"]), record[id_field], line, record)
        for line, record in enumerate(records)
    ]
    if since is not None:
        stamped = [item for item in stamped if item[0] >= datetime.fromisoformat(since)]
    return [item[3] for item in sorted(stamped, key=lambda item: item[:3])]
