"""Where events go: the run's file always, a configured OpenLineage endpoint as well.

The endpoint is a real HTTP server on a local port that reads each request as
an OpenLineage server does: it checks the event against the OpenLineage
schema and answers 400 to one that breaks it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ronghe.lineage.emit import emit, events_file
from ronghe.lineage.graph import read_events
from ronghe.lineage.publish_events import publish_event
from ronghe.lineage.validation import event_problems
from ronghe.settings import load_settings


def _event(job: str) -> dict:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2025-03-02T03:00:00+00:00",
        "producer": "https://github.com/ronghe-data/ronghe",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "01932f2e-1d5c-7c1e-9b1a-2a7f3c4d5e6f", "facets": {}},
        "job": {"namespace": "ronghe", "name": job, "facets": {}},
        "inputs": [],
        "outputs": [],
    }


@pytest.fixture
def lineage_server() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            event = json.loads(body)
            problems = event_problems(event)
            received.append(
                {
                    "path": self.path,
                    "auth": self.headers.get("Authorization"),
                    "type": self.headers.get("Content-Type"),
                    "event": event,
                    "problems": problems,
                }
            )
            self.send_response(400 if problems else 201)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_events_go_to_the_file_and_the_configured_endpoint(tmp_path, lineage_server):
    url, received = lineage_server
    settings = dataclasses.replace(
        load_settings(), home=tmp_path, lineage_url=url, lineage_api_key="secret-key"
    )
    path = events_file(tmp_path, "ronghe_transform", "manual__2025-03-02T03:00:00+00:00")
    # A real event with column lineage and statistics facets, as the publish step makes it.
    published = publish_event(
        settings, {"mart_sales_daily": 12}, {"mart_sales_daily": ["sales_date", "net_sales"]}, None
    )
    emit(settings, path, [_event("dbt.model.a"), published])
    assert path.name == "manual__2025-03-02T03_00_00+00_00.jsonl"
    assert [e["job"]["name"] for e in read_events(path)] == ["dbt.model.a", "publish.marts"]
    assert [r["event"]["job"]["name"] for r in received] == ["dbt.model.a", "publish.marts"]
    assert [r["problems"] for r in received] == [[], []]
    assert received[1]["event"] == read_events(path)[1]
    assert {r["path"] for r in received} == {"/api/v1/lineage"}
    assert {r["type"] for r in received} == {"application/json"}
    assert {r["auth"] for r in received} == {"Bearer secret-key"}


def test_an_event_the_endpoint_refuses_is_logged_and_kept_in_the_file(
    tmp_path, lineage_server, caplog
):
    url, received = lineage_server
    settings = dataclasses.replace(load_settings(), home=tmp_path, lineage_url=url)
    broken = {**_event("dbt.model.a"), "eventTime": None}
    path = events_file(tmp_path, "ronghe", "dbt")
    with caplog.at_level(logging.ERROR, logger="ronghe.lineage.emit"):
        emit(settings, path, [broken, _event("dbt.model.b")])
    assert received[0]["problems"]
    assert len(read_events(path)) == 2
    assert "did not take the event of dbt.model.a" in caplog.records[-1].getMessage()


def test_an_unreachable_endpoint_is_logged_and_the_file_keeps_every_event(tmp_path, caplog):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = dataclasses.replace(
        load_settings(), home=tmp_path, lineage_url=f"http://127.0.0.1:{port}"
    )
    path = events_file(tmp_path, "ronghe", "extract.pos")
    with caplog.at_level(logging.ERROR, logger="ronghe.lineage.emit"):
        emit(settings, path, [_event("extract.pos"), _event("extract.pos")])
    assert len(read_events(path)) == 2
    (record,) = caplog.records
    assert "the 1 events after it are only in" in record.getMessage()
