"""`ronghe eval`: score a finished run against the estate's `_truth/`."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="score a finished run against the estate's _truth/",
        description="Print figures for a finished run; with --json, one JSON object on stdout.",
    )
    parser.add_argument("--sources", required=True, type=Path, help="root of the source drop")
    parser.add_argument("--warehouse", help="DuckDB file or postgresql:// URL of the run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    import json
    import os

    from ronghe.evaluate.report import evaluate, print_report
    from ronghe.settings import load_settings

    os.environ["RONGHE_SOURCES_DIR"] = str(args.sources.expanduser().resolve())
    if args.warehouse:
        os.environ["RONGHE_WAREHOUSE"] = args.warehouse
    settings = load_settings()
    report = evaluate(settings, args.sources.expanduser().resolve())
    if args.json:
        print(json.dumps(report, ensure_ascii=False, default=str))
    else:
        print_report(report)
    return 0
