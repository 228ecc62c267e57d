"""The auditors' quality report: one static, self-contained HTML page.

Built from the evidence tables (`ops.dq_results`, `ops.dq_failing_rows`,
`ops.publish_log`), it shows for the most recent runs every rule's verdict
over time, grouped by layer, the failing rules of the latest run with what
they mean and sample failing rows, and every publish decision. No scripts,
no external assets: it opens from a file share or an e-mail attachment.
"""

from __future__ import annotations

import html
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ronghe.quality.connection import existing_tables, open_engine
from ronghe.quality.data_docs import data_docs_dir
from ronghe.quality.runner import quality_config
from ronghe.quality.spec import LAYERS
from ronghe.settings import Settings

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.45rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } .muted { color: #777; }
td.pass { background: #e3f4e3; } td.warn { background: #fff1c2; } td.fail { background: #f8d0d0; }
td.none { background: #fafafa; color: #bbb; } code, pre { font-size: 0.8rem; }
pre { white-space: pre-wrap; max-width: 70rem; margin: 0; }
"""


def report_path(settings: Settings) -> Path:
    return settings.home / "reports" / "quality" / "index.html"


def build_quality_report(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    """Write the report for the last `quality.report_runs` runs; return its path and counts."""
    config = quality_config(settings)
    keep_runs = int(config["quality"]["report_runs"])
    sample_rows = int(config["quality"]["sample_failing_rows"])
    with open_engine(settings) as engine, engine.connect() as connection:
        evidence = _load(connection, keep_runs)
    runs = _runs_in_order(evidence["results"])
    latest = run_id or (runs[-1] if runs else None)
    page = _page(settings, evidence, runs, latest, sample_rows)
    path = report_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(path)
    return {"report": str(path), "runs": len(runs), "latest_run": latest}


def _load(connection: sa.Connection, keep_runs: int) -> dict[str, list[dict[str, Any]]]:
    present = existing_tables(connection, "ops")
    evidence: dict[str, list[dict[str, Any]]] = {"results": [], "publishes": []}
    if "ops.dq_results" in present:
        evidence["results"] = _rows(
            connection,
            "with recent as ("
            "  select run_id, min(validated_at) as started_at from ops.dq_results"
            "  group by run_id order by started_at desc limit :keep"
            ") "
            "select recent.started_at, r.run_id, r.validated_at, r.layer, r.suite, r.rule_id,"
            "  r.kind, r.severity, r.success, r.meaning, r.expectation_type, r.observed_value,"
            "  r.unexpected_count, r.element_count, r.sample_failing_rows, r.error,"
            "  r.failing_rows_query, r.suite_version "
            "from ops.dq_results as r join recent on recent.run_id = r.run_id "
            "order by recent.started_at, r.validated_at",
            keep=keep_runs,
        )
    if "ops.publish_log" in present:
        evidence["publishes"] = _rows(
            connection,
            "select decided_at, run_id, status, data_version, tables, failed_rules, message "
            "from ops.publish_log order by decided_at desc limit :keep",
            keep=keep_runs,
        )
    return evidence


def _rows(connection: sa.Connection, statement: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(sa.text(statement), params).mappings()]


def _runs_in_order(results: Iterable[Mapping[str, Any]]) -> list[str]:
    first_seen: dict[str, Any] = {}
    for row in results:
        first_seen.setdefault(row["run_id"], row["started_at"])
    return sorted(first_seen, key=lambda run: first_seen[run])


def _verdict(row: Mapping[str, Any]) -> str:
    if row["success"]:
        return "pass"
    return "fail" if row["severity"] == "block" else "warn"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _page(
    settings: Settings,
    evidence: Mapping[str, list[dict[str, Any]]],
    runs: list[str],
    latest: str | None,
    sample_rows: int,
) -> str:
    results = evidence["results"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Ronghe data quality report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Data quality report</h1>",
        f"<p class='muted'>Generated {datetime.now():%Y-%m-%d %H:%M} from the evidence in "
        f"the warehouse (ops.dq_results, ops.dq_failing_rows, ops.publish_log); "
        f"{len(runs)} most recent runs. GX Data Docs: "
        f"<code>{html.escape(str(data_docs_dir(settings) / 'index.html'))}</code>.</p>",
    ]
    if not results:
        parts.append("<p>No quality results recorded yet.</p></body></html>")
        return "".join(parts)
    parts.append(_latest_summary(results, latest))
    parts.append(_trend_chart(results, runs))
    parts.append(_failures(results, latest, sample_rows))
    parts.append(_matrix(results, runs))
    parts.append(_publishes(evidence["publishes"]))
    parts.append("</body></html>")
    return "".join(parts)


def _latest_summary(results: list[dict[str, Any]], latest: str | None) -> str:
    rows = [row for row in results if row["run_id"] == latest]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"pass": 0, "warn": 0, "fail": 0})
    for row in rows:
        counts[row["layer"]][_verdict(row)] += 1
    body = "".join(
        f"<tr><td>{layer}</td><td>{c['pass']}</td><td>{c['warn']}</td><td>{c['fail']}</td></tr>"
        for layer in LAYERS
        if (c := counts.get(layer))
    )
    return (
        f"<h2>Latest run: {html.escape(str(latest))}</h2>"
        "<table><tr><th>layer</th><th>passed</th><th>warnings</th><th>blocking failures</th></tr>"
        f"{body}</table>"
    )


def _trend_chart(results: list[dict[str, Any]], runs: list[str]) -> str:
    """Failed rules per run and layer, as inline SVG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    failures = defaultdict(lambda: dict.fromkeys(runs, 0))
    for row in results:
        if not row["success"]:
            failures[row["layer"]][row["run_id"]] += 1
    figure, axes = pyplot.subplots(figsize=(9, 2.6))
    positions = range(len(runs))
    for layer in LAYERS:
        if layer in failures:
            axes.plot(positions, [failures[layer][run] for run in runs], marker="o", label=layer)
    axes.set_xticks(list(positions), [run[-12:] for run in runs], rotation=30, fontsize=7)
    axes.set_ylabel("failed rules")
    axes.set_ylim(bottom=0)
    if failures:
        axes.legend(fontsize=8)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    pyplot.close(figure)
    svg = buffer.getvalue()
    return "<h2>Failed rules per run</h2>" + svg[svg.index("<svg") :]


def _failures(results: list[dict[str, Any]], latest: str | None, sample_rows: int) -> str:
    failed = [row for row in results if row["run_id"] == latest and not row["success"]]
    if not failed:
        return "<h2>Failures in the latest run</h2><p>None: every rule passed.</p>"
    items = []
    for row in sorted(failed, key=lambda r: (r["severity"] != "block", r["rule_id"])):
        sample = _json(row["sample_failing_rows"]) or []
        observed = row["error"] or (
            f"{row['unexpected_count']} rows unexpected"
            if row["unexpected_count"] is not None
            else f"observed {json.dumps(_json(row['observed_value']), default=str)}"
        )
        items.append(
            f"<tr><td class='{_verdict(row)}'>{row['severity']}</td>"
            f"<td><code>{html.escape(row['rule_id'])}</code></td>"
            f"<td>{html.escape(row['meaning'] or '')}</td>"
            f"<td>{html.escape(str(observed))}</td>"
            f"<td>{_sample_table(sample[:sample_rows])}</td></tr>"
        )
    return (
        "<h2>Failures in the latest run</h2>"
        "<table><tr><th>severity</th><th>rule</th><th>what must hold</th><th>found</th>"
        "<th>sample failing rows (all in ops.dq_failing_rows)</th></tr>"
        f"{''.join(items)}</table>"
    )


def _sample_table(rows: list[Mapping[str, Any]]) -> str:
    if not rows:
        return "<span class='muted'>no row-level evidence</span>"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _matrix(results: list[dict[str, Any]], runs: list[str]) -> str:
    """Every rule's verdict per run, by layer: the history an auditor scans."""
    cells: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    layer_of: dict[str, str] = {}
    for row in results:
        cells[row["rule_id"]][row["run_id"]] = row
        layer_of[row["rule_id"]] = row["layer"]
    header = "".join(
        f"<th title='{html.escape(run)}'>{html.escape(run[-12:])}</th>" for run in runs
    )
    sections = ["<h2>Results over time, by layer and rule</h2>"]
    for layer in LAYERS:
        rules = sorted(rule for rule, rule_layer in layer_of.items() if rule_layer == layer)
        if not rules:
            continue
        body = []
        for rule in rules:
            row_cells = []
            for run in runs:
                row = cells[rule].get(run)
                if row is None:
                    row_cells.append("<td class='none'>-</td>")
                    continue
                count = row["unexpected_count"]
                label = "ok" if row["success"] else (str(count) if count is not None else "x")
                row_cells.append(f"<td class='{_verdict(row)}'>{html.escape(label)}</td>")
            body.append(f"<tr><td><code>{html.escape(rule)}</code></td>{''.join(row_cells)}</tr>")
        sections.append(
            f"<h3>{layer}</h3><table><tr><th>rule</th>{header}</tr>{''.join(body)}</table>"
        )
    return "".join(sections)


def _publishes(publishes: list[dict[str, Any]]) -> str:
    if not publishes:
        return "<h2>Publish decisions</h2><p>No publish recorded yet.</p>"
    body = "".join(
        f"<tr><td>{row['decided_at']}</td><td>{html.escape(row['run_id'])}</td>"
        f"<td class='{'pass' if row['status'] == 'published' else 'fail'}'>{row['status']}</td>"
        f"<td><code>{html.escape(str(row['data_version'] or ''))}</code></td>"
        f"<td>{html.escape(json.dumps(_json(row['tables']) or {}))}</td>"
        f"<td><pre>{html.escape((row['message'] or '')[:2000])}</pre></td></tr>"
        for row in publishes
    )
    return (
        "<h2>Publish decisions (newest first)</h2>"
        "<table><tr><th>decided at (UTC)</th><th>run</th><th>status</th><th>data version</th>"
        f"<th>tables (rows)</th><th>message</th></tr>{body}</table>"
    )
