"""Serving the API over HTTP: in a background thread, or in a child process.

The standard library's threading HTTP server is enough here: a page is a
slice of pre-indexed bytes, so a request costs a few milliseconds of Python
and needs no async framework. HTTP/1.1 keep-alive lets a client's session
reuse one connection for a whole page walk.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ronghe.ecommerce_api.api import EcommerceApi
from ronghe.ecommerce_api.faults import FaultRates
from ronghe.ecommerce_api.store import Estate

access_log = logging.getLogger("ronghe.ecommerce_api.access")

DEMO_TOKEN = "ronghe-demo-token"
"""The token the local server accepts when neither --token nor RONGHE_ECOM_API_TOKEN is set."""


@dataclass(frozen=True)
class ServerOptions:
    token: str = DEMO_TOKEN
    fault_rate: float = 0.0
    """Share of requests answered 500 or 503."""
    throttle_rate: float = 0.0
    """Share of requests answered 429 with a Retry-After header."""
    retry_after: int = 1
    """Seconds announced in Retry-After."""
    cursor_ttl: float = 600.0
    """Seconds a cursor stays valid before 410 Gone."""
    expire_cursor_rate: float = 0.0
    """Share of cursor requests answered 410 although the cursor is fresh."""
    seed: int = 0

    def command_line(self) -> list[str]:
        return [
            f"--token={self.token}",
            f"--fault-rate={self.fault_rate}",
            f"--throttle-rate={self.throttle_rate}",
            f"--retry-after={self.retry_after}",
            f"--cursor-ttl={self.cursor_ttl}",
            f"--expire-cursor-rate={self.expire_cursor_rate}",
            f"--seed={self.seed}",
        ]


def build_api(sources_dir: str | Path, options: ServerOptions) -> EcommerceApi:
    """Load and index the estate and set up the API (may take seconds on large estates)."""
    return EcommerceApi(
        Estate.load(sources_dir),
        token=options.token,
        cursor_ttl_seconds=options.cursor_ttl,
        fault_rates=FaultRates(
            throttle=options.throttle_rate,
            server_error=options.fault_rate,
            expire_cursor=options.expire_cursor_rate,
        ),
        retry_after_seconds=options.retry_after,
        seed=options.seed,
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client
    # waits for a delayed ACK (~40 ms) on every small page.
    disable_nagle_algorithm = True
    server: _ApiHttpServer

    def do_GET(self) -> None:
        started = time.perf_counter()
        path, _, query = self.path.partition("?")
        response = self.server.api.handle(path, query, self.headers.get("Authorization"))
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)
        elapsed_ms = (time.perf_counter() - started) * 1000
        level = logging.DEBUG if response.status == 200 else logging.INFO
        access_log.log(
            level,
            "method=GET path=%s status=%d rows=%d ms=%.1f cursor=%s",
            path,
            response.status,
            response.rows,
            elapsed_ms,
            "cursor=" in query,
        )

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes every request to stderr; do_GET logs through `logging` instead.
        return


class _ApiHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: EcommerceApi):
        super().__init__(address, _Handler)
        self.api = api


class RunningServer:
    """A server answering in a background thread; stop it or use it as a context manager."""

    def __init__(self, http_server: _ApiHttpServer, token: str):
        self._http_server = http_server
        self.token = token
        host, port = http_server.server_address[:2]
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=http_server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the loop to notice
            name=f"ecommerce-api-{port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def api(self) -> EcommerceApi:
        return self._http_server.api

    def stop(self) -> None:
        self._http_server.shutdown()
        self._http_server.server_close()
        self._thread.join()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_server(
    sources_dir: str | Path, port: int = 0, host: str = "127.0.0.1", **options: Any
) -> RunningServer:
    """Serve an estate on host:port (0 picks a free port) until `.stop()`.

    `options` are the `ServerOptions` fields (token, fault_rate, throttle_rate,
    retry_after, cursor_ttl, expire_cursor_rate, seed).
    """
    server_options = ServerOptions(**options)
    api = build_api(sources_dir, server_options)
    return RunningServer(_ApiHttpServer((host, port), api), server_options.token)


def serve_until_stopped(http_server: _ApiHttpServer) -> None:
    try:
        http_server.serve_forever()
    finally:
        http_server.server_close()


def bind(api: EcommerceApi, host: str, port: int) -> _ApiHttpServer:
    return _ApiHttpServer((host, port), api)


READY_PREFIX = "serving "
"""The child process prints `serving <url>` on stdout once it accepts requests."""


class ServerProcess:
    """A server in a child process, so clients and benchmarks do not share its GIL."""

    def __init__(self, process: subprocess.Popen[str], url: str, token: str):
        self._process = process
        self.url = url
        self.token = token
        self.pid = process.pid

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_server_process(
    sources_dir: str | Path,
    port: int = 0,
    host: str = "127.0.0.1",
    ready_timeout: float = 300.0,
    **options: Any,
) -> ServerProcess:
    """Start `python -m ronghe.ecommerce_api` and wait until it serves (estate loaded)."""
    server_options = ServerOptions(**options)
    command = [
        sys.executable,
        "-m",
        "ronghe.ecommerce_api",
        f"--sources={sources_dir}",
        f"--port={port}",
        f"--host={host}",
        *server_options.command_line(),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    ready: list[str] = []
    reader = threading.Thread(target=lambda: ready.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(ready_timeout)
    line = ready[0].strip() if ready else ""
    if not line.startswith(READY_PREFIX):
        process.kill()
        process.wait()
        raise RuntimeError(
            f"the e-commerce API server did not start within {ready_timeout:g}s "
            f"(exit code {process.returncode}); see its log above"
        )
    return ServerProcess(process, line.removeprefix(READY_PREFIX), server_options.token)
