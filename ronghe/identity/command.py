"""`ronghe identity`: run the identity step, and the steward's tools.

    ronghe identity resolve [--recalibrate] [--full]
    ronghe identity review [--limit N]
    ronghe identity override merge POS_MEMBER:C000123 TMALL:tb_88 --reason "..." [--by NAME]
    ronghe identity override split POS_MEMBER:C000123 POS_MEMBER:C000456 --reason "..."
    ronghe identity override list
    ronghe identity override revoke OVR-...

Overrides are applied by the next run of the identity step.
"""

from __future__ import annotations

import argparse
import getpass
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "identity",
        help="resolve members and SKUs; review queue and steward overrides",
        description="The identity step and its steward tools (schema `identity`).",
    )
    parser.add_argument(
        "--warehouse", help="DuckDB file or postgresql:// URL (default: RONGHE_WAREHOUSE)"
    )
    actions = parser.add_subparsers(dest="identity_action", required=True, metavar="ACTION")

    resolve = actions.add_parser("resolve", help="run the identity step now and print its summary")
    resolve.add_argument(
        "--recalibrate",
        action="store_true",
        help="measure the estate's evidence weights again (decisions near a threshold may move)",
    )
    resolve.add_argument(
        "--full",
        action="store_true",
        help="re-match every record, not only what changed since the last run (same result)",
    )
    resolve.set_defaults(handler=_resolve)

    review = actions.add_parser(
        "review", help="list the open review queue, most likely pairs first"
    )
    review.add_argument("--limit", type=int, default=50)
    review.set_defaults(handler=_review)

    override = actions.add_parser("override", help="force two records together or apart")
    kinds = override.add_subparsers(dest="override_action", required=True, metavar="KIND")
    for kind, text in (
        ("merge", "these two records are one person"),
        ("split", "these two records are different people"),
    ):
        sub = kinds.add_parser(kind, help=text)
        sub.add_argument("left", help="SYSTEM:record_id, e.g. POS_MEMBER:C000123")
        sub.add_argument("right", help="SYSTEM:record_id, e.g. TMALL:tb_88")
        sub.add_argument("--reason", required=True, help="why (kept for the audit trail)")
        sub.add_argument("--by", default=None, help="who decided (default: the current user)")
        sub.set_defaults(handler=_add_override, action=kind.upper())
    listing = kinds.add_parser("list", help="list overrides")
    listing.add_argument("--all", action="store_true", help="include revoked overrides")
    listing.set_defaults(handler=_list_overrides)
    revoke = kinds.add_parser("revoke", help="revoke an override (the next run stops applying it)")
    revoke.add_argument("override_id")
    revoke.set_defaults(handler=_revoke_override)


def _settings(args: argparse.Namespace):
    import os

    from ronghe.settings import load_settings

    if args.warehouse:
        os.environ["RONGHE_WAREHOUSE"] = args.warehouse
    return load_settings()


def _open(args: argparse.Namespace):
    from ronghe.identity.schema import ensure_schema
    from ronghe.identity.store import open_warehouse

    warehouse = open_warehouse(_settings(args))
    ensure_schema(warehouse)
    return warehouse


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(tzinfo=None)


def _resolve(args: argparse.Namespace) -> int:
    from ronghe.identity.step import resolve

    summary = resolve(_settings(args), recalibrate=args.recalibrate, full=args.full)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def _review(args: argparse.Namespace) -> int:
    warehouse = _open(args)
    try:
        frame = warehouse.query(
            "SELECT left_source_system, left_source_record_id, right_source_system, "
            "right_source_record_id, rule, probability, reason FROM identity.review_queue "
            "WHERE status = 'OPEN' ORDER BY probability DESC, left_source_system, "
            "left_source_record_id, right_source_system, right_source_record_id "
            f"LIMIT {int(args.limit)}"
        )
    finally:
        warehouse.close()
    if frame.empty:
        print("The review queue is empty.")
        return 0
    for row in frame.itertuples(index=False):
        print(f"{row[0]}:{row[1]}  {row[2]}:{row[3]}  {row[4]} p={float(row[5]):.3f}  {row[6]}")
    return 0


def _add_override(args: argparse.Namespace) -> int:
    from ronghe.identity.overrides import add_override, parse_record

    try:
        left, right = parse_record(args.left), parse_record(args.right)
    except ValueError as error:
        print(error)
        return 2
    warehouse = _open(args)
    try:
        override_id = add_override(
            warehouse, args.action, left, right, args.reason, args.by or getpass.getuser(), _now()
        )
    finally:
        warehouse.close()
    print(
        f"{override_id}: {args.action} {args.left} {args.right} (applied by the next identity run)"
    )
    return 0


def _list_overrides(args: argparse.Namespace) -> int:
    warehouse = _open(args)
    try:
        where = "" if args.all else "WHERE status = 'ACTIVE' "
        frame = warehouse.query(
            "SELECT override_id, action, left_source_system, left_source_record_id, "
            "right_source_system, right_source_record_id, status, requested_by, reason, "
            f"first_applied_run_id FROM identity.overrides {where}ORDER BY requested_at"
        )
    finally:
        warehouse.close()
    for row in frame.itertuples(index=False):
        applied = (
            "not applied yet" if row[9] is None or row[9] != row[9] else f"applied in {row[9]}"
        )
        pair = f"{row[2]}:{row[3]}  {row[4]}:{row[5]}"
        print(f"{row[0]}  {row[1]:<5} {pair}  {row[6]}  by {row[7]}  {applied}  {row[8]}")
    if frame.empty:
        print("No overrides.")
    return 0


def _revoke_override(args: argparse.Namespace) -> int:
    from ronghe.identity.overrides import revoke_override

    warehouse = _open(args)
    try:
        revoked = revoke_override(warehouse, args.override_id, _now())
    finally:
        warehouse.close()
    if not revoked:
        print(f"No active override {args.override_id}.")
        return 1
    print(f"{args.override_id} revoked; the next identity run stops applying it.")
    return 0
