"""`ronghe privacy`: check the classification of personal columns, erase a person."""

from __future__ import annotations

import argparse
import getpass


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "privacy",
        help="personal data: classification check, erasure of a person",
        description=(
            "Work on the configured warehouse (RONGHE_WAREHOUSE, or --warehouse). Erasure "
            "needs RONGHE_PRIVACY_KEY (a secret, the same for every run). Prints one JSON "
            "object; a failed check exits 1. See docs/privacy.md."
        ),
    )
    parser.add_argument("--warehouse", help="DuckDB file or postgresql:// URL")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "check",
        help="list personal-looking columns without meta.pii, and exposures in marts "
        "and unified dimensions",
    )
    erase = actions.add_parser(
        "erase", help="erase a person in every layer (and keep them erased on later loads)"
    )
    subject = erase.add_mutually_exclusive_group(required=True)
    subject.add_argument("--member", metavar="MEMBER_KEY", help="a member key (dim_member)")
    subject.add_argument(
        "--record",
        metavar="SYSTEM:ID",
        help="a source record, e.g. POS_MEMBER:<member_card_no> or MALL:<buyer_id>",
    )
    erase.add_argument("--requested-by", default=None, help="who asked (default: the OS user)")
    erase.add_argument("--reason", help="the request's reference, e.g. a ticket number")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    import json
    import os

    if args.warehouse:
        os.environ["RONGHE_WAREHOUSE"] = args.warehouse
    from ronghe.settings import load_settings

    settings = load_settings()
    if args.action == "check":
        from extractors.sinks import open_sink
        from ronghe.privacy.catalog import check_warehouse

        with open_sink(settings.warehouse) as sink:
            findings = check_warehouse(sink)
        print(json.dumps({"findings": [str(f) for f in findings]}, ensure_ascii=False, indent=2))
        return 1 if findings else 0
    from ronghe.privacy.erasure import erase
    from ronghe.privacy.identifiers import PrivacyKeyMissing
    from ronghe.privacy.subjects import UnknownSubject

    record = None
    if args.record:
        system, _, record_id = args.record.partition(":")
        if not record_id:
            print("--record must be SYSTEM:ID, e.g. POS_MEMBER:M00001234")
            return 2
        record = (system, record_id)
    try:
        result = erase(
            settings,
            requested_by=args.requested_by or getpass.getuser(),
            member_key=args.member,
            record=record,
            reason=args.reason,
        )
    except (PrivacyKeyMissing, UnknownSubject) as problem:
        print(problem)
        return 1
    print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    return 0
