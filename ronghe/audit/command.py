"""`ronghe audit`: list the audit log's entries and verify its hash chain.

ronghe audit verify [--warehouse URL]
ronghe audit log [--since 2026-11-01] [--action publish] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="the append-only audit log of runs, publishes, overrides and erasures",
        description=(
            "Read ops.audit_log in the configured warehouse (RONGHE_WAREHOUSE, or --warehouse): "
            "`verify` checks the hash chain and exits 1 naming the first broken entry; "
            "`log` lists entries."
        ),
    )
    parser.add_argument("--warehouse", help="DuckDB file or postgresql:// URL")
    actions = parser.add_subparsers(dest="audit_action", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="check the hash chain (exit 1 when broken)")
    verify.set_defaults(handler=_verify)
    listing = actions.add_parser("log", help="list entries, oldest first")
    listing.add_argument(
        "--since", type=datetime.fromisoformat, help="UTC date or time, e.g. 2026-11-01"
    )
    listing.add_argument(
        "--action", help="an action (publish.refused) or its family (publish, run, override)"
    )
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    listing.set_defaults(handler=_log)


def _entries(args: argparse.Namespace, **filters: Any) -> list[dict[str, Any]]:
    if args.warehouse:
        os.environ["RONGHE_WAREHOUSE"] = args.warehouse
    from ronghe.audit.log import read_entries
    from ronghe.settings import load_settings
    from ronghe.warehouse import warehouse_connection

    with warehouse_connection(load_settings(), read_only=True) as connection:
        return read_entries(connection, **filters)


def _verify(args: argparse.Namespace) -> int:
    from ronghe.audit.log import verify

    verdict = verify(_entries(args))
    print(verdict.describe(), file=sys.stdout if verdict.intact else sys.stderr)
    return 0 if verdict.intact else 1


def _log(args: argparse.Namespace) -> int:
    entries = _entries(args, since=args.since, action=args.action)
    if args.json:
        print(json.dumps(entries, indent=2, ensure_ascii=False, default=str))
        return 0
    if not entries:
        print("No audit log entries.")
    for entry in entries:
        print(
            f"{entry['seq']:>6}  {entry['recorded_at']:%Y-%m-%d %H:%M:%S}  {entry['action']:<18} "
            f"{entry['actor']:<16} {entry['run_id'] or '-'}  {entry['subject'] or '-'}  "
            f"{entry['details']}"
        )
    return 0
