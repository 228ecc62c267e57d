"""Benchmark of extraction: each source landed into a fresh DuckDB warehouse, next to a lower bound.

For POS and WMS the lower bound is DuckDB reading the same files straight into
tables (`read_csv` / `read_json` over the file list, explicit VARCHAR columns,
no validation, no ledger); for GBK files it reads UTF-8 copies transcoded
before timing, since DuckDB cannot read GBK itself. For the ERP it is
SQLAlchemy fetching the same tables into DuckDB. For the e-commerce API it is
a minimal client walking the same collections on the same local server (same
page size, one kept-alive connection, the cursor cut from the end of each page,
no checks) and DuckDB unnesting the page bodies straight into one table per
stream: the cost of the server and the transport, which no client avoids. The
server runs in its own process, started once for both sides. Every measurement runs in a
fresh interpreter (its peak resident memory is its own) after the estate's
files were read once, so both sides start from the same page cache; the
timer starts after the libraries each side needs are imported.

Goal: extraction within 1.5x of the lower bound.
"""

from __future__ import annotations

import json
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

GOAL_RATIO = 1.5
SOURCES = ("pos", "wms", "erp", "ecommerce")


def bench_extract_scale(
    scale: float, work_dir: Path, seed: int = 42, days: int = 90
) -> dict[str, Any]:
    """Generate (or reuse) an SF`scale` estate under `work_dir`, then run `bench_extract`."""
    from ronghe.generate import generate_estate

    estate = Path(work_dir) / f"estate-sf{scale:g}-seed{seed}-days{days}"
    if not (estate / "_truth" / "manifest.json").exists():
        generate_estate(estate, scale, seed, days)
    return bench_extract(estate, Path(work_dir) / f"extract-sf{scale:g}")


def bench_extract(estate_dir: Path, work_dir: Path) -> dict[str, Any]:
    """Time each source's extraction and its lower bound; also written to `bench_extract.json`."""
    estate_dir, work_dir = Path(estate_dir).resolve(), Path(work_dir).resolve()
    if work_dir.exists():
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True)
    inputs = _baseline_inputs(estate_dir, work_dir / "baseline-inputs")
    _warm_page_cache(estate_dir)
    sources: dict[str, Any] = {}
    with _api_server(estate_dir) as api:
        inputs["api"] = api
        for source in SOURCES:
            sources[source] = _measure_source(source, estate_dir, work_dir, inputs)
    seconds = sum(s["seconds"] for s in sources.values())
    floor_seconds = sum(s["lower_bound_seconds"] for s in sources.values())
    report = {
        "estate": str(estate_dir),
        "manifest": _manifest(estate_dir),
        "sources": sources,
        "total": {
            "seconds": round(seconds, 2),
            "lower_bound_seconds": round(floor_seconds, 2),
            "ratio": round(seconds / floor_seconds, 2) if floor_seconds else None,
        },
        "goal_ratio": GOAL_RATIO,
        "within_goal": all(
            s["ratio"] is not None and s["ratio"] <= GOAL_RATIO for s in sources.values()
        ),
    }
    (work_dir / "bench_extract.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def _measure_source(
    source: str, estate_dir: Path, work_dir: Path, inputs: dict[str, Any]
) -> dict[str, Any]:
    api = inputs["api"]
    ours = _in_child(_extract, source, str(estate_dir), str(work_dir / f"{source}.duckdb"), api)
    floor = _in_child(_lower_bound, source, inputs, str(work_dir / f"{source}-floor.duckdb"))
    rows = ours["result"]["read"]
    return {
        "rows_read": rows,
        "rows_loaded": ours["result"]["loaded"],
        "files": ours["result"]["files"],
        "seconds": ours["seconds"],
        "rows_per_second": round(rows / ours["seconds"]) if ours["seconds"] else None,
        "peak_rss_mib": ours["peak_rss_mib"],
        "lower_bound_seconds": floor["seconds"],
        "lower_bound_rows": floor["result"],
        "lower_bound_peak_rss_mib": floor["peak_rss_mib"],
        "ratio": round(ours["seconds"] / floor["seconds"], 2) if floor["seconds"] else None,
    }


@contextmanager
def _api_server(estate: Path) -> Iterator[dict[str, str]]:
    """The e-commerce API over the estate, in its own process (no GIL shared with a side)."""
    from ronghe.ecommerce_api import start_server_process

    token = secrets.token_urlsafe(16)
    server = start_server_process(estate, token=token)
    try:
        yield {"url": server.url, "token": token}
    finally:
        server.stop()


def _manifest(estate: Path) -> dict[str, Any]:
    path = estate / "_truth" / "manifest.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: data.get(k) for k in ("scale", "seed", "days", "generator_version")}


def _in_child(function: Any, *args: Any) -> dict[str, Any]:
    """Run `function(*args)` in a fresh interpreter: its time, peak memory and result."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"function": function.__name__, "args": args}, handle)
    try:
        done = subprocess.run(
            [sys.executable, "-c", f"from {__name__} import _child; _child()", handle.name],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        Path(handle.name).unlink()
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child() -> None:
    call = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    function = globals()[call["function"]]
    _import_before_timing(call["function"], call["args"])
    started = time.perf_counter()
    result = function(*call["args"])
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    measured = {"seconds": round(seconds, 3), "peak_rss_mib": round(peak_kib / 1024, 1)}
    print(json.dumps({**measured, "result": result}))


def _import_before_timing(function: str, args: list[Any]) -> None:
    """Both sides are timed from their first row, not from the interpreter's imports."""
    import importlib

    # DuckDB imports pandas the first time it binds a Python parameter, on both sides.
    modules = ["duckdb", "pyarrow", "pandas", "sqlalchemy", "requests"]
    if function == "_extract" or args[0] == "ecommerce":
        modules.append(f"extractors.{args[0]}")
    for module in modules:
        importlib.import_module(module)


def _warm_page_cache(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file() and "_truth" not in path.parts:
            with path.open("rb") as handle:
                while handle.read(1 << 20):
                    pass


# -- our extraction -------------------------------------------------------------


def _extract(source: str, estate: str, warehouse: str, api: dict[str, str]) -> dict[str, Any]:
    import dataclasses
    import importlib

    from ronghe.settings import load_settings

    settings = dataclasses.replace(
        load_settings(),
        sources_dir=Path(estate),
        warehouse=warehouse,
        erp_url=f"sqlite:///{Path(estate) / 'erp' / 'erp.db'}",
        ecom_api_url=api["url"],
        ecom_api_token=api["token"],
    )
    module = importlib.import_module(f"extractors.{source}")
    result = getattr(module, f"extract_{source}")(settings)
    return {k: v for k, v in result.items() if k != "streams"}


# -- the lower bound -------------------------------------------------------------


def _baseline_inputs(estate: Path, copies: Path) -> dict[str, Any]:
    """File lists per stream (complete POS drops only), GBK files transcoded to UTF-8 copies."""
    from extractors.contracts import load_source

    pos = load_source("pos")
    pos_files: dict[str, list[str]] = {name: [] for name in pos.streams}
    for success in sorted((estate / "pos").glob("*/*/_SUCCESS")):
        for name, contract in pos.streams.items():
            path = success.parent / contract.options["file_name"]
            data = path.read_bytes()
            if not data.strip():
                continue  # DuckDB cannot read a header from an empty file
            header = data.split(b"\n", 1)[0]
            if not header.isascii():
                try:
                    header.decode("utf-8")
                except UnicodeDecodeError:
                    target = copies / path.relative_to(estate)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data.decode("gb18030").encode("utf-8"))
                    path = target
            pos_files[name].append(str(path))
    wms = load_source("wms")
    wms_files = {
        name: [str(p) for p in sorted((estate / "wms").glob(contract.options["pattern"]))]
        for name, contract in wms.streams.items()
    }
    return {
        "pos": {name: (pos.stream(name).field_names, files) for name, files in pos_files.items()},
        "wms": {name: (wms.stream(name).field_names, files) for name, files in wms_files.items()},
        "erp_url": f"sqlite:///{estate / 'erp' / 'erp.db'}",
        "erp_tables": [c.options["table"] for c in load_source("erp").streams.values()],
    }


def _lower_bound(source: str, inputs: dict[str, Any], warehouse: str) -> int:
    """Rows DuckDB read straight into tables for `source`."""
    import duckdb

    con = duckdb.connect(warehouse)
    con.execute("SET enable_progress_bar = false")
    rows = 0
    try:
        if source == "erp":
            return _erp_lower_bound(con, inputs["erp_url"], inputs["erp_tables"])
        if source == "ecommerce":
            return _ecommerce_lower_bound(con, inputs["api"])
        for stream, (fields, files) in inputs[source].items():
            if not files:
                continue
            columns = "{" + ", ".join(f"'{f}': 'VARCHAR'" for f in fields) + "}"
            if source == "pos":
                reader = (
                    f"read_csv(?, header = true, auto_detect = false, columns = {columns}, "
                    "filename = true, store_rejects = true)"
                )
            else:
                reader = (
                    f"read_json(?, format = 'newline_delimited', columns = {columns}, "
                    "filename = true, ignore_errors = true)"
                )
            con.execute(f'CREATE TABLE "{stream}" AS SELECT * FROM {reader}', [files])
            rows += con.execute(f'SELECT count(*) FROM "{stream}"').fetchone()[0]
    finally:
        con.close()
    return rows


def _erp_lower_bound(con: Any, url: str, tables: list[str]) -> int:
    import pyarrow as pa
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    rows = 0
    with engine.connect() as conn:
        for table in tables:
            result = conn.execute(sa.text(f'SELECT * FROM "{table}"'))
            names = list(result.keys())
            data = result.fetchall()
            arrow = pa.table(
                {
                    n: pa.array([None if v is None else str(v) for v in col], pa.string())
                    for n, col in zip(names, zip(*data, strict=True), strict=True)
                }
                if data
                else {n: pa.array([], pa.string()) for n in names}
            )
            con.register("_fetched", arrow)
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _fetched')
            con.unregister("_fetched")
            rows += len(data)
    engine.dispose()
    return rows


def _ecommerce_lower_bound(con: Any, api: dict[str, str]) -> int:
    """Every page of every walk fetched as bytes, then unnested by DuckDB into tables."""
    import pyarrow as pa
    import requests

    from extractors.contracts import load_source
    from extractors.ecommerce import walks

    contract = load_source("ecommerce")
    page_size = str(contract.options.get("page_size", 500))
    bodies: dict[str, list[bytes]] = {}
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {api['token']}"
        for walk in walks(contract):
            params = {"page_size": page_size}
            if walk.platform:
                params["platform"] = walk.platform
            while True:
                response = session.get(api["url"] + walk.endpoint, params=params, timeout=60)
                response.raise_for_status()
                body = response.content
                bodies.setdefault(walk.stream, []).append(body)
                # The server writes `next_cursor` last: read it without parsing the page.
                cursor = json.loads(body[body.rindex(b'"next_cursor":') + 14 : -1])
                if cursor is None:
                    break
                params["cursor"] = cursor
    rows = 0
    for stream, pages in bodies.items():
        con.register("_pages", pa.table({"body": pa.array(pages, pa.binary()).cast(pa.string())}))
        con.execute(
            "CREATE TEMP TABLE _objects AS "
            "SELECT unnest(json_extract(body, '$.data[*]')) AS o FROM _pages"
        )
        con.unregister("_pages")
        for name, fields, source in _ecommerce_bound_tables(contract, stream):
            values = ", ".join(f"{source}->>'{f}' AS \"{f}\"" for f in fields)
            con.execute(f'CREATE TABLE "{name}" AS SELECT {values} FROM _objects')
            rows += con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        con.execute("DROP TABLE _objects")
    return rows


def _ecommerce_bound_tables(contract: Any, stream: str) -> list[tuple[str, list[str], str]]:
    """(table, fields, JSON value) per raw table a walk fills; orders also fill their lists."""
    fields = list(contract.stream(stream).field_names)
    if stream != "orders":
        return [(stream, fields, "o")]
    items = [f for f in contract.stream("order_items").field_names if f not in _FROM_ORDER]
    return [
        ("orders", fields, "o"),
        ("order_items", items, "unnest(json_extract(o, '$.items[*]'))"),
        ("order_coupons", ["coupon_code"], "unnest(json_extract(o, '$.coupons[*]'))"),
    ]


_FROM_ORDER = ("order_id", "platform", "order_updated_at")
