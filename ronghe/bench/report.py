"""Judge a benchmark run against the goals and write it out: JSON, a markdown table, a chart.

The goals (issues: performance benchmark, facts and marts) are ratios to
bounds measured in the same run, so runs on different machines compare.
Where a goal is missed, the stage that holds it back is named: the one whose
time exceeds its own bound (or its share of the budget) by the most.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ronghe.bench import dbt as dbt_bench
from ronghe.bench import extract as extract_bench
from ronghe.bench import identity as identity_bench
from ronghe.bench import orchestration as orchestration_bench
from ronghe.bench import quality as quality_bench

WHOLE_PIPELINE_RATIO = 2.0
INCREMENTAL_SHARE = 0.10
INCREMENTAL_SLACK_SECONDS = 15.0
IDLE_RUN_SECONDS = 15.0
PEAK_MEMORY_GIB = 6.0

_PLAIN_NAMES = {
    "extract": "landing, all sources (plain)",
    "staging": "dbt staging + intermediate",
    "identity": "identity resolution",
    "unified": "dbt unified + marts",
    "quality": "validation (GX gates)",
}
_BOUND_KINDS = {
    "extract": "DuckDB reading the same files; SQLAlchemy fetch for the ERP; "
    "a minimal client of the same API server",
    "staging": "dbt's compiled SQL in one DuckDB session",
    "unified": "dbt's compiled SQL in one DuckDB session",
    "quality": "one SQL scan per table computing the same checks",
}


def stage_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per stage measured in the full run: time, throughput, memory, bound, goal."""
    rows: list[dict[str, Any]] = []
    full = report.get("plain", {}).get("full")
    raw_rows = full["raw_rows"] if full else None
    for name, source in report.get("extract", {}).get("sources", {}).items():
        rows.append(
            _row(
                f"extract {name}",
                source["seconds"],
                source["rows_read"],
                source["peak_rss_mib"],
                source["lower_bound_seconds"],
                _BOUND_KINDS["extract"],
                f"<= {extract_bench.GOAL_RATIO}x bound",
                source["ratio"] is not None and source["ratio"] <= extract_bench.GOAL_RATIO,
            )
        )
    for stage, measured in (full or {}).get("stages", {}).items():
        rows.append(_plain_row(stage, measured, raw_rows, report["scale"]))
    orchestration = report.get("airflow", {}).get("orchestration")
    if orchestration:
        airflow, script = orchestration["airflow"], orchestration["script"]
        rows.append(
            _row(
                f"orchestration (Airflow, {airflow['tasks']} tasks)",
                airflow["seconds"],
                raw_rows,
                orchestration["children_peak_rss_mib"],
                script["seconds"],
                "the same stages from a plain script",
                f"<= {orchestration_bench.GOAL_RATIO}x bound + "
                f"{orchestration_bench.GOAL_SECONDS_PER_TASK:g} s per task",
                orchestration["within_goal"],
            )
        )
    whole = pipeline_bound(report)
    if whole:
        rows.append(
            _row(
                "whole pipeline (Airflow)",
                whole["seconds"],
                raw_rows,
                orchestration["children_peak_rss_mib"],
                whole["bound"],
                "the sum of the stage bounds",
                f"<= {WHOLE_PIPELINE_RATIO:g}x bound",
                whole["seconds"] <= WHOLE_PIPELINE_RATIO * whole["bound"],
            )
        )
    return rows


def _plain_row(
    stage: str, measured: dict[str, Any], raw_rows: int | None, scale: float
) -> dict[str, Any]:
    bound = measured.get("lower_bound_seconds")
    goal, met = None, measured.get("goal_met")
    if stage in ("staging", "unified") and bound is not None:
        goal = f"<= {dbt_bench.GOAL_RATIO}x bound + {dbt_bench.GOAL_FIXED_SECONDS:g} s"
    elif stage == "quality" and bound is not None:
        goal = f"<= {quality_bench.GOAL_RATIO}x bound + {quality_bench.GOAL_SLACK_SECONDS:g} s"
    elif stage == "identity":
        seconds_goal = identity_bench.GOAL_SECONDS[10]
        memory_goal = identity_bench.GOAL_PEAK_GIB[10]
        goal = f"SF10: <= {seconds_goal:g} s and {memory_goal:g} GiB"
        met = (
            measured["seconds"] <= seconds_goal and measured["peak_rss_mib"] / 1024 <= memory_goal
            if scale == 10
            else None  # a time at another scale says nothing about this goal
        )
    return _row(
        _PLAIN_NAMES[stage],
        measured["seconds"],
        raw_rows,
        measured["peak_rss_mib"],
        bound,
        _BOUND_KINDS.get(stage) if bound is not None else None,
        goal,
        met,
    )


def _row(
    stage: str,
    seconds: float,
    rows: int | None,
    peak_rss_mib: float,
    bound_seconds: float | None,
    bound_kind: str | None,
    goal: str | None,
    met: bool | None,
) -> dict[str, Any]:
    return {
        "stage": stage,
        "seconds": seconds,
        "rows": rows,
        "rows_per_second": round(rows / seconds) if rows and seconds else None,
        "peak_rss_mib": peak_rss_mib,
        "lower_bound_seconds": bound_seconds,
        "lower_bound": bound_kind,
        "ratio": round(seconds / bound_seconds, 2) if bound_seconds else None,
        "goal": goal,
        "met": met,
    }


def goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The pipeline goals: each with its measure, its limit, met or not, and what holds it back."""
    found: list[dict[str, Any]] = []
    plain = report.get("plain", {})
    airflow = report.get("airflow", {})
    whole = _whole_pipeline(report)
    if whole:
        found.append(whole)
    if "incremental" in airflow:
        full_dags = airflow["orchestration"]["airflow"]["dags"]
        full_seconds = sum(full_dags.values())
        seconds = airflow["incremental"]["dag_seconds_total"]
        limit = INCREMENTAL_SHARE * full_seconds + INCREMENTAL_SLACK_SECONDS
        found.append(
            _goal(
                "incremental run (one more day, Airflow)",
                seconds,
                limit,
                f"{INCREMENTAL_SHARE:.0%} of the full run ({full_seconds:.1f} s) + "
                f"{INCREMENTAL_SLACK_SECONDS:g} s",
                _incremental_culprit(plain) or _slowest(airflow["incremental"]["dag_seconds"]),
            )
        )
    if "no_new_data" in airflow:
        idle = airflow["no_new_data"]["dag_seconds"]
        found.append(
            _goal(
                "no-new-data run (`ronghe run`: every DAG, transform included)",
                airflow["no_new_data"]["dag_seconds_total"],
                IDLE_RUN_SECONDS,
                f"{IDLE_RUN_SECONDS:g} s of DAG run time",
                _slowest(idle),
            )
        )
    if "orchestration" in airflow:
        scheduled = airflow["orchestration"]["idle_runs"]
        found.append(
            _goal(
                "no-new-data run (scheduled: the extract DAGs find nothing and stop)",
                sum(scheduled.values()),
                IDLE_RUN_SECONDS,
                f"{IDLE_RUN_SECONDS:g} s of DAG run time",
                max(scheduled, key=scheduled.get) if scheduled else None,
            )
        )
    if "incremental" in plain:
        full = plain["full"]["stages"]
        incremental = plain["incremental"]["stages"]
        full_dbt = full["staging"]["seconds"] + full["unified"]["seconds"]
        seconds = incremental["staging"]["seconds"] + incremental["unified"]["seconds"]
        limit = INCREMENTAL_SHARE * full_dbt + INCREMENTAL_SLACK_SECONDS
        found.append(
            _goal(
                "incremental dbt build (one more day)",
                seconds,
                limit,
                f"{INCREMENTAL_SHARE:.0%} of the full build ({full_dbt:.1f} s) + "
                f"{INCREMENTAL_SLACK_SECONDS:g} s",
                max(("staging", "unified"), key=lambda s: incremental[s]["seconds"]),
            )
        )
    peaks = _peaks(report)
    if peaks:
        stage, peak = max(peaks.items(), key=lambda item: item[1])
        found.append(
            _goal(
                "peak memory of any process (GiB; goal stated for SF10)",
                round(peak / 1024, 2),
                PEAK_MEMORY_GIB,
                f"{PEAK_MEMORY_GIB:g} GiB",
                stage,
            )
        )
    return found


def pipeline_bound(report: dict[str, Any]) -> dict[str, Any] | None:
    """Airflow's full run, the sum of the stage bounds, and each stage's (seconds, bound).

    Identity has no bound: it counts at its own time (so would a source the
    extraction benchmark did not measure). None unless every stage was measured.
    """
    orchestration = report.get("airflow", {}).get("orchestration")
    full = report.get("plain", {}).get("full", {}).get("stages", {})
    if not orchestration or "extract" not in report or "quality" not in full:
        return None
    extract = report["extract"]
    unbounded = sum(
        source["seconds"]
        for name, source in full["extract"]["sources"].items()
        if name not in extract["sources"]
    )
    parts = {
        "extract": (
            extract["total"]["seconds"] + unbounded,
            extract["total"]["lower_bound_seconds"] + unbounded,
        ),
        **{
            stage: (
                full[stage]["seconds"],
                full[stage].get("lower_bound_seconds", full[stage]["seconds"]),
            )
            for stage in ("staging", "identity", "unified", "quality")
        },
    }
    airflow, script = orchestration["airflow"]["seconds"], orchestration["script"]["seconds"]
    bound = round(sum(floor for _, floor in parts.values()), 2)
    return {
        "seconds": airflow,
        "bound": bound,
        "parts": {**parts, "orchestration": (airflow, script)},
    }


def _whole_pipeline(report: dict[str, Any]) -> dict[str, Any] | None:
    whole = pipeline_bound(report)
    if whole is None:
        return None
    parts = whole["parts"]
    culprit = max(parts, key=lambda name: parts[name][0] - parts[name][1])
    return _goal(
        "whole pipeline (Airflow) vs the sum of stage bounds",
        whole["seconds"],
        WHOLE_PIPELINE_RATIO * whole["bound"],
        f"{WHOLE_PIPELINE_RATIO:g}x the sum of bounds ({whole['bound']:g} s; identity counts "
        "at its own time)",
        culprit,
    )


def _slowest(dags: dict[str, float]) -> str | None:
    return max(dags, key=dags.get) if dags else None  # type: ignore[arg-type]


def _incremental_culprit(plain: dict[str, Any]) -> str | None:
    if "incremental" not in plain:
        return None
    full, incremental = plain["full"]["stages"], plain["incremental"]["stages"]
    return max(
        incremental,
        key=lambda stage: (
            incremental[stage]["seconds"] - INCREMENTAL_SHARE * full[stage]["seconds"]
        ),
    )


def _peaks(report: dict[str, Any]) -> dict[str, float]:
    peaks: dict[str, float] = {}
    for name, source in report.get("extract", {}).get("sources", {}).items():
        peaks[f"extract {name}"] = source["peak_rss_mib"]
    for run, measured in report.get("plain", {}).items():
        for stage, figures in measured["stages"].items():
            peaks[f"{stage} ({run})"] = figures["peak_rss_mib"]
    airflow = report.get("airflow", {})
    if "orchestration" in airflow:
        peaks["Airflow full run"] = airflow["orchestration"]["children_peak_rss_mib"]
    for run in ("incremental", "no_new_data"):
        if run in airflow:
            peaks[f"Airflow {run} run"] = airflow[run]["peak_rss_mib"]
    return peaks


def _goal(
    name: str, measured: float, limit: float, limit_text: str, culprit: str | None
) -> dict[str, Any]:
    met = measured <= limit
    return {
        "goal": name,
        "measured": round(measured, 2),
        "limit": round(limit, 2),
        "limit_text": limit_text,
        "met": met,
        "held_back_by": None if met else culprit,
        "largest_share": culprit,
    }


def run_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The full, incremental and no-new-data runs, plain and through Airflow."""
    rows: list[dict[str, Any]] = []
    plain = report.get("plain", {})
    for run, measured in plain.items():
        stages = measured["stages"]
        detail = ", ".join(f"{stage} {s['seconds']:g} s" for stage, s in stages.items())
        if measured.get("dbt_parse_seconds"):
            detail = f"{detail} (and dbt parse {measured['dbt_parse_seconds']:g} s)"
        if run != "full" and plain["full"]["raw_rows"]:
            share = measured["raw_rows_landed"] / plain["full"]["raw_rows"]
            detail = f"{share:.1%} new raw rows; {detail}"
        rows.append(
            {
                "run": f"plain stages: {run.replace('_', ' ')}",
                "seconds": measured["seconds"],
                "raw_rows_landed": measured["raw_rows_landed"],
                "peak_rss_mib": max(s["peak_rss_mib"] for s in stages.values()),
                "detail": detail,
            }
        )
    airflow = report.get("airflow", {})
    if "orchestration" in airflow:
        full = airflow["orchestration"]["airflow"]
        rows.append(
            {
                "run": "Airflow: full",
                "seconds": full["seconds"],
                "raw_rows_landed": None,
                "peak_rss_mib": airflow["orchestration"]["children_peak_rss_mib"],
                "detail": _dag_detail(full["dags"]),
            }
        )
    for run in ("incremental", "no_new_data"):
        if run in airflow:
            measured = airflow[run]
            rows.append(
                {
                    "run": f"Airflow: {run.replace('_', ' ')} (`ronghe run`)",
                    "seconds": measured["seconds"],
                    "raw_rows_landed": None,
                    "peak_rss_mib": measured["peak_rss_mib"],
                    "detail": _dag_detail(measured["dag_seconds"])
                    + (
                        f" ({measured['transform_skipped']})"
                        if measured.get("transform_skipped")
                        else ""
                    ),
                }
            )
    return rows


def _dag_detail(dags: dict[str, float]) -> str:
    total = sum(dags.values())
    each = ", ".join(
        f"{dag.removeprefix('ronghe_')} {seconds:g} s" for dag, seconds in dags.items()
    )
    return f"DAG run time {total:.1f} s: {each}"


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """The run's figures with the judged tables added."""
    return {
        **report,
        "stage_table": stage_rows(report),
        "run_table": run_rows(report),
        "goals": goals(report),
    }


def write_results(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write `bench-<time>-sf<scale>.{json,md,png}` into `out_dir` and copy them to `latest.*`."""
    summary = summarize(report)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = (
        f"bench-{report['started_at'].replace(':', '').replace('+0000', 'Z')}-sf{report['scale']:g}"
    )
    paths = {
        "json": out_dir / f"{stem}.json",
        "markdown": out_dir / f"{stem}.md",
        "chart": out_dir / f"{stem}.png",
    }
    paths["json"].write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    write_chart(summary, paths["chart"])
    paths["markdown"].write_text(markdown(summary, paths["chart"].name), encoding="utf-8")
    for kind, path in list(paths.items()):
        latest = out_dir / f"latest{path.suffix}"
        if kind == "markdown":
            latest.write_text(markdown(summary, "latest.png"), encoding="utf-8")
        else:
            shutil.copyfile(path, latest)
    return paths


def markdown(summary: dict[str, Any], chart_name: str) -> str:
    """The report a reader sees: machine, scale, the stage table, the runs, the goals."""
    machine = summary["machine"]
    lines = [
        f"# Ronghe benchmark: scale factor {summary['scale']:g}",
        "",
        f"Estate: scale factor {summary['scale']:g}, seed {summary['seed']}, "
        f"{summary['days']} days "
        f"({_generated(summary.get('generate_seconds'))}). Run started {summary['started_at']}, "
        f"took {summary['seconds']:g} s.",
        f"Machine: {machine['cpu_model']}, {machine['logical_cores']} logical cores, "
        f"{machine['ram_gib']:g} GiB RAM, {machine['os']}, Python {machine['python']}; "
        f"load average {machine['load_average_1m']:g} at the start and "
        f"{machine.get('load_average_1m_at_end', float('nan')):g} at the end.",
        *(
            [
                "**The machine was shared during this run** (load above its core count): "
                "times are inflated and ratios noisy (a stage and its bound ran minutes apart)."
            ]
            if _shared(machine)
            else []
        ),
        "",
        *(
            [
                f"**The run failed in part `{summary['failed']['part']}`**: "
                f"{summary['failed']['error']}; the figures below are what was measured before.",
                "",
            ]
            if "failed" in summary
            else []
        ),
        "Rows per second count the raw rows of the run's estate (all sources) per second of the "
        "stage. Peak memory is the peak resident set of the stage's own process.",
        "",
        "## Stages (full run)",
        "",
        "| stage | seconds | rows/s | peak MiB | lower bound (s) | ratio | goal | met |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in summary["stage_table"]:
        lines.append(
            f"| {row['stage']} | {row['seconds']:g} | {_num(row['rows_per_second'])} "
            f"| {row['peak_rss_mib']:g} | {_num(row['lower_bound_seconds'])} "
            f"| {_num(row['ratio'])} | {row['goal'] or '-'} | {_verdict(row['met'])} |"
        )
    bounds = {row["lower_bound"] for row in summary["stage_table"] if row["lower_bound"]}
    if bounds:
        lines += ["", "Lower bounds: " + "; ".join(sorted(bounds)) + "."]
    if summary["run_table"]:
        lines += [
            "",
            "## Runs",
            "",
            "| run | seconds | raw rows landed | peak MiB | detail |",
            "|---|---:|---:|---:|---|",
        ]
        for row in summary["run_table"]:
            lines.append(
                f"| {row['run']} | {row['seconds']:g} | {_num(row['raw_rows_landed'])} "
                f"| {row['peak_rss_mib']:g} | {row['detail']} |"
            )
    if summary["goals"]:
        lines += [
            "",
            "## Goals",
            "",
            "| goal | measured | limit | met | held back by |",
            "|---|---:|---|---|---|",
        ]
        for goal in summary["goals"]:
            lines.append(
                f"| {goal['goal']} | {goal['measured']:g} "
                f"| {goal['limit']:g} ({goal['limit_text']}) "
                f"| {_verdict(goal['met'])} | {goal['held_back_by'] or '-'} |"
            )
    lines += ["", f"![stage times against their lower bounds]({chart_name})", ""]
    return "\n".join(lines)


def _generated(seconds: float | None) -> str:
    return "reused from an earlier run" if not seconds else f"generated in {seconds:g} s"


def _shared(machine: dict[str, Any]) -> bool:
    loads = [machine["load_average_1m"], machine.get("load_average_1m_at_end", 0.0)]
    return max(loads) > machine["logical_cores"]


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _verdict(met: bool | None) -> str:
    return "-" if met is None else ("pass" if met else "**miss**")


def write_chart(summary: dict[str, Any], path: Path) -> None:
    """Horizontal bars: each stage's time next to its lower bound; the runs beside."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = summary["stage_table"]
    runs = summary["run_table"]
    panels = 2 if runs else 1
    figure, axes = plt.subplots(
        panels,
        1,
        figsize=(10, 1.2 + 0.55 * (len(stages) + len(runs)) + 0.8 * panels),
        squeeze=False,
    )
    ax = axes[0][0]
    names = [row["stage"] for row in stages]
    positions = range(len(stages))
    ax.barh([p + 0.2 for p in positions], [row["seconds"] for row in stages], 0.4, label="Ronghe")
    ax.barh(
        [p - 0.2 for p in positions],
        [row["lower_bound_seconds"] or 0 for row in stages],
        0.4,
        label="lower bound (same run)",
    )
    ax.set_yticks(list(positions), names)
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.legend(loc="best")
    machine = summary["machine"]
    ax.set_title(
        f"Scale factor {summary['scale']:g}, {summary['days']} days; "
        f"{machine['logical_cores']} cores, "
        f"{machine['ram_gib']:g} GiB; load {machine['load_average_1m']:g}"
    )
    if runs:
        ax = axes[1][0]
        ax.barh(range(len(runs)), [row["seconds"] for row in runs], 0.5, color="tab:green")
        ax.set_yticks(range(len(runs)), [row["run"].replace("`", "") for row in runs])
        ax.invert_yaxis()
        ax.set_xlabel("seconds (whole run)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
