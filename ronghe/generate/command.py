"""`ronghe generate`: write a demo estate."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write a demo estate (ERP, POS, WMS, e-commerce and _truth/)",
        description="Write a deterministic demo estate following the source contract.",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="scale factor (1 = about 100,000 sales lines)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--out", type=Path, required=True, help="estate root (SOURCES_DIR)")
    parser.add_argument("--days", type=int, default=90, help="days in the window (default 90)")
    parser.add_argument(
        "--start-date",
        type=date.fromisoformat,
        default=None,
        help="first day of the window, YYYY-MM-DD (default 2025-08-20)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from ronghe.generate.estate import generate_estate

    summary = generate_estate(args.out, args.scale, args.seed, args.days, args.start_date)
    print(
        f"estate written to {summary.root} in {summary.seconds:.1f}s "
        f"({summary.files_changed} files changed, {summary.days} days from {summary.start_date})"
    )
    for name, count in sorted(summary.counts.items()):
        print(f"  {name:40s} {count:>12,d}")
    print(f"  {'defects injected':40s} {sum(summary.defects.values()):>12,d}")
    return 0
