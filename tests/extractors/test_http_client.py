"""Retries against the real e-commerce API server with injected faults."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from extractors.http_client import RetryPolicy, retries_of, retrying_session
from ronghe.ecommerce_api import start_server
from tests.support.ecommerce_estate import build_small_estate

FAST = RetryPolicy(max_attempts=8, backoff_seconds=0.005, backoff_max_seconds=0.05)


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    return build_small_estate(tmp_path_factory.mktemp("estate"), orders_per_platform=5)


def _session(policy: RetryPolicy) -> requests.Session:
    session = retrying_session(policy)
    session.headers["Authorization"] = "Bearer t"
    return session


def test_server_errors_and_throttling_are_retried_until_success(estate):
    with start_server(
        estate.root, token="t", fault_rate=0.3, throttle_rate=0.2, retry_after=0, seed=2
    ) as server:
        session = _session(FAST)
        responses = [session.get(f"{server.url}/v1/coupons") for _ in range(30)]
    assert {response.status_code for response in responses} == {200}
    retried = [status for response in responses for status in retries_of(response)]
    assert {"429", "500", "503"} <= set(retried)


def test_retry_after_is_honoured(estate):
    with start_server(estate.root, token="t", throttle_rate=0.5, retry_after=1, seed=1) as server:
        session = _session(FAST)
        started = time.monotonic()
        responses = [session.get(f"{server.url}/v1/coupons") for _ in range(4)]
        elapsed = time.monotonic() - started
    throttled = sum(retries_of(response).count("429") for response in responses)
    assert throttled >= 1
    assert elapsed >= throttled * 1.0


def test_attempts_are_bounded(estate):
    with start_server(estate.root, token="t", fault_rate=1.0) as server:
        session = _session(RetryPolicy(max_attempts=3, backoff_seconds=0.001))
        with pytest.raises(requests.exceptions.RetryError, match="too many 50"):
            session.get(f"{server.url}/v1/coupons")
        assert sum(server.api.status_counts.values()) == 3


def test_connection_errors_are_retried_then_raised():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session = _session(RetryPolicy(max_attempts=3, backoff_seconds=0.001))
    with pytest.raises(requests.ConnectionError, match="Max retries exceeded"):
        session.get(f"http://127.0.0.1:{port}/v1/coupons")


def test_client_errors_are_not_retried(estate):
    with start_server(estate.root, token="t") as server:
        session = _session(FAST)
        session.headers["Authorization"] = "Bearer wrong"
        response = session.get(f"{server.url}/v1/coupons")
        assert response.status_code == 401
        assert retries_of(response) == []
        assert sum(server.api.status_counts.values()) == 1
