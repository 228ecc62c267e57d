"""A throwaway PostgreSQL server for the tests, started from the Debian packages.

The server runs in a temporary directory on a free loopback port and is
stopped when the test session ends. When the tests run as root (as CI does),
the cluster is owned by the `postgres` system user, because PostgreSQL refuses
to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def _pg_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(
            f"PostgreSQL's {name} was not found; install the Debian package 'postgresql' "
            "(.ci/run does this)"
        )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    port: int
    data_dir: Path
    superuser: str = "postgres"
    password: str = "ronghe-test"

    def url(
        self,
        database: str = "postgres",
        user: str | None = None,
        password: str | None = None,
        driver: str = "postgresql",
    ) -> str:
        user = user or self.superuser
        password = password or self.password
        return f"{driver}://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg2

        conn = psycopg2.connect(self.url())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_postgres() -> PostgresServer:
    base = Path(tempfile.mkdtemp(prefix="ronghe-pg-"))
    data_dir = base / "data"
    password_file = base / "pwfile"
    password_file.write_text("ronghe-test\n")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(password_file, "postgres")
    subprocess.run(
        _as_owner(
            [
                _pg_bin("initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "-A",
                "scram-sha-256",
                "--pwfile",
                str(password_file),
                "-E",
                "UTF8",
                "--locale",
                "C.UTF-8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    subprocess.run(
        _as_owner(
            [
                _pg_bin("pg_ctl"),
                "-D",
                str(data_dir),
                "-l",
                str(base / "server.log"),
                "-w",
                "-o",
                f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=200",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    server = PostgresServer(port=port, data_dir=data_dir)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start; see {base / 'server.log'}") from None
            time.sleep(0.2)


def stop_postgres(server: PostgresServer) -> None:
    subprocess.run(
        _as_owner([_pg_bin("pg_ctl"), "-D", str(server.data_dir), "-m", "immediate", "stop"]),
        check=False,
        capture_output=True,
    )
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)
