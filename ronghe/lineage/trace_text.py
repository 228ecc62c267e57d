"""A trace as text an auditor reads in a terminal or pastes into working papers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ronghe.lineage.trace import MemberTrace, Trace


def render_trace(trace: Trace, sources_dir: Path | None) -> str:
    out = [f"# {trace.subject}"]
    if trace.figures:
        out.append("")
        out.append("figure           mart        from lines  adds up")
        for name, check in trace.figures.items():
            mark = "yes" if check["matches"] else "NO"
            out.append(f"{name:<16} {check['mart']!s:>11} {check['from_lines']!s:>11}  {mark}")
    out.append("")
    out.append(f"{len(trace.lines)} counted lines:")
    for traced in trace.lines:
        line = traced.line
        out.append(
            f"- {line['source_system']} {line['order_scope']} order {line['order_id']} "
            f"line {line['line_id']} {line['line_type']}: qty {line['qty']}, "
            f"gross {line['gross_amount']}, discount {line['discount_amount']}, "
            f"net {line['net_amount']}"
        )
        for record in traced.records:
            out.append(
                f"    {record.role}: {record.location(sources_dir)} "
                f"({record.raw_table}, batch {record.batch_id})"
            )
    return "\n".join(out)


def render_traces(traces: Sequence[Trace], sources_dir: Path | None) -> str:
    return "\n\n".join(render_trace(trace, sources_dir) for trace in traces)


def render_member(trace: MemberTrace, sources_dir: Path | None) -> str:
    out = [f"# member {trace.member_key}", ""]
    for key in trace.key_history:
        out.append(
            f"key {key['status']}: minted {key['minted_at']} (run {key['minted_run_id']})"
            + (f", merged into {key['merged_into']}" if key["merged_into"] else "")
            + (f", retired {key['retired_at']}" if key["retired_at"] else "")
        )
    out.append("")
    out.append(f"{len(trace.assignments)} source records assigned (open and closed):")
    for row in trace.assignments:
        until = row["valid_to"] or "now"
        out.append(
            f"- {row['source_system']} {row['source_record_id']}: {row['matched_by']} "
            f"(score {row['match_score']}), {row['valid_from']} to {until}"
        )
    out.append("")
    out.append(f"{len(trace.merges)} merges and splits:")
    for merge in trace.merges:
        out.append(
            f"- {merge['event_at']} {merge['event_type']} {merge['member_key']} / "
            f"{merge['other_key']}: {merge['reason']} (score {merge['match_score']})"
        )
    out.append("")
    out.append(f"{len(trace.records)} raw rows of the records assigned now:")
    for record in trace.records:
        out.append(
            f"- {record.role}: {record.location(sources_dir)} "
            f"({record.raw_table}, batch {record.batch_id})"
        )
    return "\n".join(out)
