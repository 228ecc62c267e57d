"""`ronghe quality`: run the gates, publish the marts, build the reports, score defect coverage."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quality",
        help="quality gates, write-audit-publish of the marts, quality reports",
        description=(
            "Operate the quality layer on the configured warehouse (RONGHE_WAREHOUSE, or "
            "--warehouse). Every action prints one JSON object; a failed gate or a refused "
            "publish exits 1 after printing which rules failed."
        ),
    )
    parser.add_argument("--warehouse", help="DuckDB file or postgresql:// URL")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    gate = actions.add_parser("gate", help="run the suites of some layers or suites")
    gate.add_argument("targets", nargs="+", help="layers (raw staging unified marts) or suites")
    gate.add_argument("--run-id", help="run id the results are stored under (default: a new one)")
    publish = actions.add_parser("publish", help="audit marts_candidate and publish it to marts")
    publish.add_argument("--run-id", help="run id (default: a new one)")
    actions.add_parser("report", help="build the auditors' HTML report and GX Data Docs")
    coverage = actions.add_parser(
        "coverage", help="score how many of an estate's injected defects left evidence"
    )
    coverage.add_argument("--sources", required=True, type=Path, help="estate root with _truth/")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    import json
    import os
    from datetime import UTC, datetime

    if args.warehouse:
        os.environ["RONGHE_WAREHOUSE"] = args.warehouse
    from ronghe.settings import load_settings

    settings = load_settings()
    run_id = getattr(args, "run_id", None) or f"manual-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    if args.action == "gate":
        from ronghe.quality.runner import QualityGateFailed, run_quality_gate

        try:
            result = run_quality_gate(args.targets, settings, run_id)
        except QualityGateFailed as failure:
            print(failure)
            return 1
    elif args.action == "publish":
        from ronghe.quality.publish import MartsNotPublished, publish_marts

        try:
            result = publish_marts(settings, run_id)
        except MartsNotPublished as refusal:
            print(refusal)
            return 1
    elif args.action == "report":
        from ronghe.quality.data_docs import build_data_docs
        from ronghe.quality.report import build_quality_report

        result = {"report": build_quality_report(settings), "data_docs": build_data_docs(settings)}
    else:
        from ronghe.quality.defect_coverage import defect_coverage

        result = defect_coverage(settings, args.sources.expanduser().resolve())
    print(json.dumps(result, ensure_ascii=False, default=str, indent=2))
    return 0
