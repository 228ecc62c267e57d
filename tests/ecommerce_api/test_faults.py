"""Injected 429/5xx/410 answers: as configured, deterministic by seed, harmless to paging."""

from __future__ import annotations

import time

import pytest
import requests

from ronghe.ecommerce_api import start_server
from tests.ecommerce_api.conftest import feed_order


def _statuses(url: str, token: str, count: int) -> list[int]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        return [
            session.get(f"{url}/v1/coupons", params={"page_size": 5}).status_code
            for _ in range(count)
        ]


def test_throttled_requests_carry_retry_after(small_estate):
    with start_server(small_estate.root, token="t", throttle_rate=1.0, retry_after=7) as server:
        response = requests.get(
            f"{server.url}/v1/orders",
            params={"platform": "MALL"},
            headers={"Authorization": "Bearer t"},
        )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["error"] == "too_many_requests"


def test_server_errors_come_at_the_configured_rate_and_repeat_by_seed(small_estate):
    runs = {}
    for name, seed in (("first", 3), ("again", 3), ("other", 4)):
        with start_server(small_estate.root, token="t", fault_rate=0.25, seed=seed) as server:
            runs[name] = _statuses(server.url, "t", 400)
    failures = [status for status in runs["first"] if status != 200]
    assert 0.18 < len(failures) / 400 < 0.32
    assert set(failures) == {500, 503}
    assert runs["again"] == runs["first"]
    assert runs["other"] != runs["first"]


def test_faults_do_not_disturb_paging(small_estate):
    stored = small_estate.records["orders/JD"]
    with (
        start_server(
            small_estate.root, token="t", fault_rate=0.2, throttle_rate=0.2, seed=11
        ) as server,
        requests.Session() as session,
    ):
        session.headers["Authorization"] = "Bearer t"
        rows, faults = [], 0
        query = {"platform": "JD", "page_size": 3}
        while True:
            response = session.get(f"{server.url}/v1/orders", params=query)
            if response.status_code in (429, 500, 503):
                faults += 1
                continue  # the same request again, as a retrying client would send it
            assert response.status_code == 200
            rows.extend(response.json()["data"])
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
            query = {"platform": "JD", "page_size": 3, "cursor": cursor}
    assert faults > 5
    assert rows == feed_order(stored, "order_id")


def test_cursor_older_than_the_ttl_is_gone(small_estate):
    with (
        start_server(small_estate.root, token="t", cursor_ttl=0.3) as server,
        requests.Session() as session,
    ):
        session.headers["Authorization"] = "Bearer t"
        url = f"{server.url}/v1/orders"
        first = session.get(url, params={"platform": "MALL", "page_size": 5}).json()
        fresh = session.get(url, params={"platform": "MALL", "cursor": first["next_cursor"]})
        time.sleep(0.5)
        stale = session.get(url, params={"platform": "MALL", "cursor": first["next_cursor"]})
        restarted = session.get(url, params={"platform": "MALL", "page_size": 5})
    assert fresh.status_code == 200
    assert stale.status_code == 410
    assert stale.json()["error"] == "cursor_expired"
    assert "restart" in stale.json()["message"]
    assert restarted.json()["data"] == first["data"]


def test_expire_cursor_rate_answers_fresh_cursors_with_410(small_estate):
    with (
        start_server(small_estate.root, token="t", expire_cursor_rate=1.0) as server,
        requests.Session() as session,
    ):
        session.headers["Authorization"] = "Bearer t"
        url = f"{server.url}/v1/coupons"
        first = session.get(url, params={"page_size": 5})
        second = session.get(url, params={"page_size": 5, "cursor": first.json()["next_cursor"]})
    assert first.status_code == 200
    assert second.status_code == 410


def _walk_restarting_on_gone(session: requests.Session, url: str) -> tuple[list[dict], int]:
    """A client that restarts its walk from the beginning whenever a cursor is gone."""
    restarts = 0
    while True:
        rows, query = [], {"page_size": 3}
        while True:
            response = session.get(url, params=query)
            if response.status_code == 410:
                restarts += 1
                break
            assert response.status_code == 200
            rows.extend(response.json()["data"])
            if response.json()["next_cursor"] is None:
                return rows, restarts
            query = {"page_size": 3, "cursor": response.json()["next_cursor"]}


def test_a_walk_restarted_after_injected_expiry_completes_deterministically(small_estate):
    outcomes = []
    for _ in range(2):
        with (
            start_server(small_estate.root, token="t", expire_cursor_rate=0.3, seed=5) as server,
            requests.Session() as session,
        ):
            session.headers["Authorization"] = "Bearer t"
            rows, restarts = _walk_restarting_on_gone(session, f"{server.url}/v1/coupons")
            outcomes.append((rows, restarts, dict(server.api.status_counts)))
    assert outcomes[0][0] == feed_order(small_estate.records["coupons"], "coupon_code")
    assert outcomes[0][1] > 0
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize(
    "options",
    [{"fault_rate": 1.5}, {"throttle_rate": -0.1}, {"fault_rate": 0.6, "throttle_rate": 0.6}],
)
def test_impossible_rates_are_refused(small_estate, options):
    with pytest.raises(ValueError, match="rate"):
        start_server(small_estate.root, **options)
