"""`ronghe trace` (record-level provenance) and `ronghe lineage` (events, report)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_trace(subparsers)
    _register_lineage(subparsers)


def _register_trace(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "trace",
        help="trace a mart figure or an order back to its source rows",
        description=(
            "List the source rows (system, file and line, ERP table row or API request and "
            "position, landing batch) behind a mart row, an order or a member, from the "
            "configured warehouse (RONGHE_WAREHOUSE, or --warehouse). A mart row's figures are "
            "recomputed from the lines found; exit 1 when they do not add up. Personal fields "
            "other than record ids are withheld."
        ),
    )
    parser.add_argument("--warehouse", help="DuckDB file or postgresql:// URL")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    subjects = parser.add_subparsers(dest="subject", required=True, metavar="SUBJECT")
    daily = subjects.add_parser("sales-daily", help="a row of marts.mart_sales_daily")
    daily.add_argument("--date", required=True, help="sales date, YYYY-MM-DD")
    daily.add_argument("--channel", required=True, help="channel code: STORE, MALL, TMALL, JD")
    daily.add_argument("--store", help="store code (omit for rows without a store)")
    daily.add_argument(
        "--schema",
        default="marts",
        choices=("marts", "marts_candidate"),
        help="published marts (default) or the candidate build not yet published",
    )
    order = subjects.add_parser("order", help="an order: a till transaction or an online order")
    order.add_argument("--system", required=True, choices=("POS", "ECOMMERCE"))
    order.add_argument("--order-id", required=True, help="txn_id or online order_id")
    order.add_argument("--scope", help="store code (POS) or platform (ECOMMERCE)")
    member = subjects.add_parser(
        "member", help="a member key: its record assignments, merges and source rows"
    )
    member.add_argument("--key", required=True, help="member_key of unified.dim_member")
    parser.set_defaults(handler=_handle_trace)


def _register_lineage(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lineage",
        help="check the recorded OpenLineage events; build the auditors' lineage report",
        description=(
            "Read the OpenLineage events Ronghe recorded under RONGHE_HOME/lineage/events "
            "(or --home)."
        ),
    )
    parser.add_argument("--home", type=Path, help="RONGHE_HOME")
    parser.add_argument("--warehouse", help="DuckDB file or postgresql:// URL")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "check", help="validate every event against the OpenLineage schema (exit 1 if any fails)"
    )
    actions.add_parser("report", help="build the lineage report (RONGHE_HOME/reports/lineage)")
    parser.set_defaults(handler=_handle_lineage)


def _settings(args: argparse.Namespace) -> Any:
    if getattr(args, "warehouse", None):
        os.environ["RONGHE_WAREHOUSE"] = args.warehouse
    if getattr(args, "home", None):
        os.environ["RONGHE_HOME"] = str(args.home)
    from ronghe.settings import load_settings

    return load_settings()


def _handle_trace(args: argparse.Namespace) -> int:
    from ronghe.lineage import trace
    from ronghe.lineage.trace_text import render_member, render_traces
    from ronghe.quality.connection import open_engine

    settings = _settings(args)
    try:
        with open_engine(settings) as engine, engine.connect() as connection:
            if args.subject == "member":
                member = trace.trace_member(connection, args.key)
            elif args.subject == "sales-daily":
                traces = trace.trace_sales_daily(
                    connection, args.date, args.channel, args.store, args.schema
                )
            else:
                traces = [trace.trace_order(connection, args.system, args.order_id, args.scope)]
    except trace.TraceError as missing:
        print(missing, file=sys.stderr)
        return 2
    if args.subject == "member":
        document = member.to_dict()
        text = render_member(member, settings.sources_dir)
        print(json.dumps(document, indent=2, default=str) if args.json else text)
        return 0
    if args.json:
        print(json.dumps([t.to_dict() for t in traces], indent=2, ensure_ascii=False, default=str))
    else:
        print(render_traces(traces, settings.sources_dir))
    return 0 if all(t.reconciles for t in traces) else 1


def _handle_lineage(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.action == "check":
        from ronghe.lineage.validation import validate_events_dir

        problems = validate_events_dir(settings.home)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} invalid events")
        return 1 if problems else 0
    from ronghe.lineage.report import build_lineage_report

    print(json.dumps(build_lineage_report(settings), indent=2, default=str))
    return 0
