"""A batch killed with SIGKILL leaves nothing behind; the re-run ends as an uninterrupted run.

The extraction runs in a real child process on a real DuckDB file (the
e-commerce one against the real API server). The child pauses at a point
inside the batch (after all rows were written, just before the commit; or
after the first stream's rows were appended, while its ledger is written) and
the test kills it there with SIGKILL.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractors.ecommerce import extract_ecommerce
from extractors.erp import extract_erp
from extractors.pos import extract_pos
from extractors.wms import extract_wms
from ronghe.ecommerce_api import start_server
from tests.extractors.estates import erp_estate, pos_estate, wms_estate
from tests.extractors.helpers import land, settings_for, snapshot
from tests.support.ecommerce_estate import build_small_estate

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import sys, time
from pathlib import Path
import extractors.{module} as module
from extractors.sinks import DuckDBSink
from tests.extractors.helpers import settings_for

marker = Path(sys.argv[2])

def pause(*args, **kwargs):
    marker.write_text("paused")
    time.sleep(600)

if sys.argv[3] == "before_commit":
    DuckDBSink.commit = pause
else:
    import extractors.row_outcomes as row_outcomes
    row_outcomes.write_ledger = pause
module.extract_{module}(settings_for(Path(sys.argv[1]), sys.argv[4]))
"""

CASES = [
    ("pos", extract_pos),
    ("wms", extract_wms),
    ("erp", extract_erp),
    ("ecommerce", extract_ecommerce),
]


def _estate(root: Path) -> Path:
    sources = erp_estate(wms_estate(pos_estate(root)))
    build_small_estate(sources, orders_per_platform=10)
    return sources


def _run_and_kill(
    module: str, sources: Path, warehouse: Path, point: str, tmp: Path, env: dict[str, str]
) -> None:
    marker = tmp / f"{module}-{point}.paused"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD.format(module=module),
            str(sources),
            str(marker),
            point,
            str(warehouse),
        ],
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, f"the child exited ({child.returncode}) before pausing"
            assert time.monotonic() < deadline, "the child never reached the pause point"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", ["before_commit", "while_landing"])
def test_sigkill_mid_batch_then_rerun_equals_uninterrupted_run(point: str, tmp_path: Path) -> None:
    sources = _estate(tmp_path / "sources")
    with start_server(sources, token="tok") as server:
        api = {"ecom_api_url": server.url, "ecom_api_token": server.token}
        env = {"RONGHE_ECOM_API_URL": server.url, "RONGHE_ECOM_API_TOKEN": server.token}
        clean = dataclasses.replace(settings_for(sources, str(tmp_path / "clean.duckdb")), **api)
        killed = dataclasses.replace(settings_for(sources, str(tmp_path / "killed.duckdb")), **api)
        for module, extract in CASES:
            land(extract, clean)
            _run_and_kill(module, sources, Path(killed.warehouse), point, tmp_path, env)
            land(extract, killed)
    expected = snapshot(clean)
    assert all(expected[f"raw.{t}"] for t in ("pos_lines", "wms_movements", "erp_item"))
    assert expected["raw.ecom_orders"] and expected["raw.ecom_order_items"]
    assert snapshot(killed) == expected
