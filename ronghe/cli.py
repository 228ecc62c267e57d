"""The `ronghe` command line.

Each command lives in its own module, which exposes `register(subparsers)`
and imports its heavy dependencies only when it runs, so `ronghe --help`
stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that register a command, in the order `--help` lists them.
COMMAND_MODULES = (
    "ronghe.generate.command",
    "ronghe.ecommerce_api.command",
    "ronghe.pipeline.command",
    "ronghe.evaluate.command",
    "ronghe.quality.command",
    "ronghe.bench.command",
    "ronghe.identity.command",
    "ronghe.privacy.command",
    "ronghe.lineage.command",
    "ronghe.audit.command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ronghe",
        description="Omnichannel retail data integration: sources to one trustworthy warehouse.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
