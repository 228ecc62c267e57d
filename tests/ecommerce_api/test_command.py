"""`ronghe serve-ecommerce` and `start_server_process`: real processes on real ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import requests

from ronghe.ecommerce_api import start_server_process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_health(url: str, process: subprocess.Popen, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            return requests.get(f"{url}/health", timeout=1).json()
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url}/health did not answer within {timeout}s")


def _serve(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ronghe.cli", "serve-ecommerce", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_cli_serves_the_estate_on_the_given_port(small_estate):
    port = _free_port()
    process = _serve(["--sources", str(small_estate.root), "--port", str(port), "--token", "cli"])
    try:
        health = _wait_for_health(f"http://127.0.0.1:{port}", process)
        orders = requests.get(
            f"http://127.0.0.1:{port}/v1/orders",
            params={"platform": "MALL", "page_size": 500},
            headers={"Authorization": "Bearer cli"},
        )
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=10)
    assert health["status"] == "ok"
    assert orders.status_code == 200
    assert len(orders.json()["data"]) == health["versions"]["orders/MALL"]
    assert stdout.strip() == f"serving http://127.0.0.1:{port}"
    assert process.returncode == 0
    assert "serving" in stderr


def test_cli_takes_the_token_from_the_environment(small_estate):
    port = _free_port()
    process = _serve(
        ["--sources", str(small_estate.root), "--port", str(port)],
        env={"RONGHE_ECOM_API_TOKEN": "from-env"},
    )
    try:
        _wait_for_health(f"http://127.0.0.1:{port}", process)
        url = f"http://127.0.0.1:{port}/v1/coupons"
        with_env_token = requests.get(url, headers={"Authorization": "Bearer from-env"})
        with_demo_token = requests.get(url, headers={"Authorization": "Bearer ronghe-demo-token"})
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert with_env_token.status_code == 200
    assert with_demo_token.status_code == 401


def test_cli_refuses_a_folder_that_is_not_an_estate(tmp_path):
    process = _serve(["--sources", str(tmp_path), "--port", "0"])
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert f"{tmp_path / 'ecommerce'} does not exist" in stderr


def test_server_process_serves_until_stopped(small_estate):
    with start_server_process(small_estate.root, token="p", throttle_rate=1.0) as server:
        health = requests.get(f"{server.url}/health")
        throttled = requests.get(f"{server.url}/v1/coupons", headers={"Authorization": "Bearer p"})
    assert health.status_code == 200
    assert throttled.status_code == 429
    try:
        requests.get(f"{server.url}/health", timeout=2)
    except requests.ConnectionError:
        return
    raise AssertionError("the server process still answers after stop()")
