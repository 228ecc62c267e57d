"""The auditors' lineage report: a static HTML page built from the recorded events.

    RONGHE_HOME/reports/lineage/index.html    what an auditor reads
    RONGHE_HOME/reports/lineage/lineage.png   the table lineage, drawn
    RONGHE_HOME/reports/lineage/lineage.json  the same content, for tools

It shows the table lineage layer by layer, for every mart column the source
fields it is computed from (mart columns that reach none are listed on their
own), the latest verdict of each quality suite, each extract batch with the
source data it read and the rows it landed, and the runs whose events were
recorded.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ronghe.lineage.graph import LineageGraph, build_graph
from ronghe.settings import Settings

MART_SCHEMA = "marts_candidate"
"""Marts are built here and copied unchanged into `marts` when published (`publish.marts`)."""

PUBLISHED_SCHEMA = "marts"
LAYERS = (
    "source",
    "raw",
    "staging",
    "intermediate",
    "identity",
    "unified",
    MART_SCHEMA,
    PUBLISHED_SCHEMA,
    "ops",
)
DRAWN_LAYERS = LAYERS[:-1]
"""The picture leaves out `ops`: every batch and check writes it, its edges would hide the rest."""


def report_dir(home: Path) -> Path:
    return home / "reports" / "lineage"


def layer_of(dataset: str) -> str:
    schema = dataset.split(".", 1)[0]
    return schema if schema in LAYERS and "/" not in dataset else "source"


def mart_column_lineage(
    graph: LineageGraph, stop_at: str | None = "raw"
) -> dict[str, dict[str, list[str]]]:
    """mart -> column -> the fields (`raw.pos_lines.qty`) it is computed from.

    By default the walk ends in `raw`, where `ronghe trace` picks up each row;
    with `stop_at=None` it goes on to the fields of the source files, ERP
    tables and API endpoints themselves.
    """
    marts = sorted(name for name in graph.producers if name.startswith(f"{MART_SCHEMA}."))
    return {
        mart: {
            column: sorted(
                f"{table}.{field}" for table, field in graph.source_fields((mart, column), stop_at)
            )
            for column in graph.columns_of(mart)
        }
        for mart in marts
    }


SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")
NOT_DATA_LINEAGE = {
    "ops.transform_fingerprints": "hashes of the code and inputs a published build came from, "
    "kept so an unchanged run skips its rebuild; no figure is computed from them",
    "ops.privacy_erasures": "the erasure register, written by `ronghe privacy erase` outside "
    "any pipeline run and kept as its own audit trail",
    "ops.privacy_erased_identifiers": "keyed hashes of erased identifiers, written by "
    "`ronghe privacy erase`; landing only consults them",
    "ops.audit_log": "the audit log: one hash-chained entry per run, publish, steward "
    "override and erasure, about the actions and not the data; shown in its own section",
    "ops.privacy_erasure_actions": "a count per table of what each erasure (or a landing "
    "batch re-applying one) scrubbed: the erasure's own audit trail, holding no data",
}
"""Warehouse tables that are not data lineage, each with the reason (every other table must be
named by an event)."""


def tables_without_lineage(graph: LineageGraph, settings: Settings) -> list[str]:
    """Warehouse tables no recorded event names (the tables of `NOT_DATA_LINEAGE` aside)."""
    from ronghe.lineage.dbt_events import read_catalog

    named = graph.datasets | {c["dataset"] for c in graph.checkpoints()}
    return sorted(
        f"{schema}.{table}"
        for schemas in read_catalog(settings).values()
        for schema, tables in schemas.items()
        if schema not in SYSTEM_SCHEMAS
        for table in tables
        if f"{schema}.{table}" not in named and f"{schema}.{table}" not in NOT_DATA_LINEAGE
    )


AUDIT_ENTRIES_SHOWN = 50


def audit_log_summary(settings: Settings) -> dict[str, Any]:
    """The audit log's chain verdict (over every entry) and its latest entries."""
    from ronghe.audit.log import read_entries, verify
    from ronghe.warehouse import warehouse_connection

    with warehouse_connection(settings, read_only=True) as connection:
        entries = read_entries(connection)
    verdict = verify(entries)
    return {
        "entries": len(entries),
        "intact": verdict.intact,
        "verdict": verdict.describe(),
        "latest": [
            {**entry, "recorded_at": entry["recorded_at"].isoformat(sep=" ")}
            for entry in reversed(entries[-AUDIT_ENTRIES_SHOWN:])
        ],
    }


def columns_without_source(lineage: dict[str, dict[str, list[str]]]) -> list[str]:
    return [
        f"{mart}.{column}"
        for mart, columns in lineage.items()
        for column, sources in columns.items()
        if not sources
    ]


def extract_batches(graph: LineageGraph) -> list[dict[str, Any]]:
    rows = []
    for job, event in sorted(graph.jobs.items()):
        if not job.startswith("extract."):
            continue
        rows.append(
            {
                "job": job,
                "batch_id": event["run"]["facets"].get("externalQuery", {}).get("externalQueryId"),
                "finished": event["eventTime"],
                "read": [f"{d['namespace']}/{d['name']}" for d in event.get("inputs", [])],
                "landed": {
                    d["name"]: d.get("outputFacets", {}).get("outputStatistics", {}).get("rowCount")
                    for d in event.get("outputs", [])
                },
            }
        )
    return rows


def _layout(graph: LineageGraph) -> dict[str, tuple[float, float]]:
    """(layer, height) per dataset; each layer ordered by where its inputs sit, to untangle edges.

    Raw tables go in name order; sources next to the raw tables they feed; every
    later layer at the mean height of its inputs.
    """
    by_layer: dict[str, list[str]] = {layer: [] for layer in DRAWN_LAYERS}
    for dataset in sorted(graph.datasets):
        if layer_of(dataset) in by_layer:
            by_layer[layer_of(dataset)].append(dataset)
    rank: dict[str, float] = {name: float(i) for i, name in enumerate(by_layer["raw"])}
    feeds: dict[str, list[float]] = {}
    for output in graph.producers:
        for source in graph.inputs_of(output):
            if output in rank:
                feeds.setdefault(source, []).append(rank[output])
    for name in by_layer["source"]:
        rank[name] = min(feeds.get(name, [0.0]))
    for layer in DRAWN_LAYERS[2:]:
        for name in by_layer[layer]:
            placed = [rank[i] for i in graph.inputs_of(name) if i in rank]
            rank[name] = sum(placed) / len(placed) if placed else 0.0
    tallest = max((len(names) for names in by_layer.values()), default=1)
    position = {}
    for x, layer in enumerate(DRAWN_LAYERS):
        ordered = sorted(by_layer[layer], key=lambda n: (rank.get(n, 0.0), n))
        step = tallest / max(len(ordered), 1)
        for y, name in enumerate(ordered):
            position[name] = (float(x), tallest - y * step)
    return position


def _label(name: str, sources_dir: Path | None) -> str:
    if layer_of(name) != "source":
        return name.split(".", 1)[1]
    if sources_dir is not None and name.startswith(f"{sources_dir}/"):
        return name[len(str(sources_dir)) + 1 :]
    return name


def draw_lineage(graph: LineageGraph, path: Path, sources_dir: Path | None) -> None:
    """The table lineage as a picture: one column of boxes per layer, edges input -> output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    position = _layout(graph)
    tallest = max((y for _, y in position.values()), default=1.0)
    figure, axes = plt.subplots(figsize=(3.2 * len(DRAWN_LAYERS), max(6.0, tallest * 0.32)))
    for output in graph.producers:
        for source in graph.inputs_of(output):
            if source in position and output in position:
                (x0, y0), (x1, y1) = position[source], position[output]
                axes.plot([x0, x1], [y0, y1], color="#9aa5b1", linewidth=0.5, zorder=1)
    for name, (x, y) in position.items():
        axes.text(
            x,
            y,
            _label(name, sources_dir),
            fontsize=6,
            ha="center",
            va="center",
            zorder=2,
            bbox={"boxstyle": "round", "facecolor": "#f0f4f8", "edgecolor": "#52606d"},
        )
    for x, layer in enumerate(DRAWN_LAYERS):
        axes.text(x, tallest + 1.2, layer, fontsize=10, ha="center", weight="bold")
    axes.set_xlim(-0.6, len(DRAWN_LAYERS) - 0.4)
    axes.set_ylim(-1, tallest + 2)
    axes.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(graph: LineageGraph, content: dict[str, Any]) -> str:
    runs = _table(
        ("DAG", "run", "events", "jobs", "failed jobs", "from", "to", "code", "configuration"),
        (
            (
                r.dag_id,
                r.run_id,
                r.events,
                len(r.jobs),
                ", ".join(r.failed_jobs) or "none",
                r.first_event,
                r.last_event,
                ", ".join(r.code_versions),
                ", ".join(r.config_hashes),
            )
            for r in graph.runs
        ),
    )
    batches = _table(
        ("job", "batch", "finished", "read", "rows landed"),
        (
            (
                b["job"],
                b["batch_id"],
                b["finished"],
                "; ".join(b["read"]),
                "; ".join(f"{t}: {n if n is not None else '-'}" for t, n in b["landed"].items()),
            )
            for b in content["extract_batches"]
        ),
    )
    tables = _table(
        ("dataset", "layer", "written by", "reads"),
        (
            (
                name,
                layer_of(name),
                graph.producers.get(name, "(source)"),
                ", ".join(graph.inputs_of(name)),
            )
            for name in sorted(graph.datasets, key=lambda n: (LAYERS.index(layer_of(n)), n))
        ),
    )
    origins = content["mart_column_origins"]
    columns = "".join(
        f"<h3>{html.escape(mart)}</h3>"
        + _table(
            ("column", "raw fields", "source system fields"),
            (
                (column, ", ".join(sources) or "NONE", ", ".join(origins[mart][column]) or "NONE")
                for column, sources in cols.items()
            ),
        )
        for mart, cols in content["mart_columns"].items()
    )
    checks = _table(
        ("suite", "dataset", "checked at", "rules", "failed rules"),
        (
            (
                c["suite"],
                c["dataset"],
                c["checked_at"],
                c["rules"],
                ", ".join(c["failed"]) or "none",
            )
            for c in content["checkpoints"]
        ),
    )
    audit = content["audit_log"]
    audit_fields = ("seq", "recorded_at", "action", "actor", "run_id", "subject", "details")
    audit_entries = _table(
        ("#", "recorded at (UTC)", "action", "by", "run", "subject", "details"),
        ((e[field] or "" for field in audit_fields) for e in audit["latest"]),
    )
    untracked = content["tables_without_lineage"]
    untracked_list = (
        "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in untracked) + "</ul>"
        if untracked
        else "<p>Every warehouse table appears in the lineage.</p>"
    )
    excluded = _table(("table", "why it is not data lineage"), sorted(NOT_DATA_LINEAGE.items()))
    gaps = content["columns_without_source"]
    gap_list = (
        "<ul>" + "".join(f"<li>{html.escape(g)}</li>" for g in gaps) + "</ul>"
        if gaps
        else "<p>Every mart column reaches at least one source field.</p>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ronghe lineage report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #1f2933; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; font-size: 0.85em; }}
th, td {{ border: 1px solid #cbd2d9; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
th {{ background: #f0f4f8; }}
img {{ max-width: 100%; border: 1px solid #cbd2d9; }}
</style></head><body>
<h1>Ronghe lineage report</h1>
<p>Built {html.escape(content["built_at"])} from {len(graph.runs)} recorded runs
(OpenLineage events under <code>{html.escape(content["events_dir"])}</code>).
Marts are built in <code>{MART_SCHEMA}</code> and published unchanged to <code>marts</code>.</p>
<h2 id="graph">Table lineage</h2>
<a href="lineage.png"><img src="lineage.png"
 alt="table lineage from source data through raw to the marts"></a>
<h2 id="mart-columns">Mart columns and the source fields behind them</h2>
<h3 id="gaps">Mart columns without a source field ({len(gaps)})</h3>
<p>A column reaches a source field directly (computed from it) or indirectly: a row
count (<code>count(*)</code>) or a constant chosen per row (a channel's group) through
the fields that group, filter and join its rows. Anything listed here is a gap.</p>
{gap_list}
{columns}
<h2 id="checks">Quality checkpoints (latest verdict of each suite)</h2>
{checks}
<h2 id="batches">Extract batches</h2>
{batches}
<h2 id="datasets">Datasets, who wrote them and what they read</h2>
{tables}
<h3 id="untracked">Warehouse tables no event names ({len(untracked)})</h3>
<p>Every schema is checked; these tables are not data lineage and are not listed:</p>
{excluded}
{untracked_list}
<h2 id="runs">Runs</h2>
{runs}
<h2 id="audit-log">Audit log</h2>
<p>Runs, publishes, steward overrides and erasures, from <code>ops.audit_log</code>
(append-only; each entry's hash chains to the one before). Chain verdict:
<strong id="audit-verdict">{html.escape(audit["verdict"])}</strong>.
The latest {len(audit["latest"])} of {audit["entries"]} entries, newest first:</p>
{audit_entries}
</body></html>
"""


def build_lineage_report(settings: Settings) -> dict[str, Any]:
    """Write the report under RONGHE_HOME/reports/lineage; return where, and its gaps."""
    from datetime import UTC, datetime

    from ronghe.lineage.emit import events_dir

    graph = build_graph(settings.home)
    mart_columns = mart_column_lineage(graph)
    content = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "events_dir": str(events_dir(settings.home)),
        "datasets": {
            name: {
                "layer": layer_of(name),
                "written_by": graph.producers.get(name),
                "reads": graph.inputs_of(name),
            }
            for name in sorted(graph.datasets)
        },
        "extract_batches": extract_batches(graph),
        "checkpoints": graph.checkpoints(),
        "runs": [
            {
                "dag_id": r.dag_id,
                "run_id": r.run_id,
                "events": r.events,
                "failed_jobs": r.failed_jobs,
                "first_event": r.first_event,
                "last_event": r.last_event,
                "code_versions": r.code_versions,
                "config_hashes": r.config_hashes,
            }
            for r in graph.runs
        ],
        "mart_columns": mart_columns,
        "mart_column_origins": mart_column_lineage(graph, stop_at=None),
        "columns_without_source": columns_without_source(mart_columns),
        "tables_without_lineage": tables_without_lineage(graph, settings),
        "audit_log": audit_log_summary(settings),
    }
    directory = report_dir(settings.home)
    directory.mkdir(parents=True, exist_ok=True)
    draw_lineage(graph, directory / "lineage.png", settings.sources_dir)
    (directory / "lineage.json").write_text(
        json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    index = directory / "index.html"
    index.write_text(render_html(graph, content), encoding="utf-8")
    return {
        "report": str(index),
        "datasets": len(content["datasets"]),
        "columns_without_source": content["columns_without_source"],
        "tables_without_lineage": content["tables_without_lineage"],
    }
