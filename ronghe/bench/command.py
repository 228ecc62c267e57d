"""`ronghe bench`: how far each stage is from the machine's limit, measured in one run."""

from __future__ import annotations

import argparse
from pathlib import Path

STAGE_CHOICES = ("extract", "staging", "identity", "unified", "quality", "orchestration", "all")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="benchmark the pipeline's stages against lower bounds measured in the same run",
        description=(
            "Generate an estate once, then measure each stage (wall time, rows per second, "
            "peak memory) next to a lower bound measured in the same run on the same data, "
            "and judge the performance goals. With --stage all (or --incremental) it also "
            "measures an incremental run after one more day of data and a run with no new "
            "data. "
            "Writes bench-<time>-sf<scale>.{json,md,png} and latest.{json,md,png} to --out."
        ),
    )
    parser.add_argument("--scale", type=float, default=1.0, help="scale factor (default 1)")
    parser.add_argument(
        "--stage",
        choices=STAGE_CHOICES,
        default="all",
        help="stage to measure (default all); the stages it needs run before it, unmeasured",
    )
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="also measure the runs after one more day of data and with no new data "
        "(always on with --stage all; the plain pipeline then runs every stage)",
    )
    parser.add_argument("--seed", type=int, default=42, help="estate seed (default 42)")
    parser.add_argument("--days", type=int, default=90, help="days in the estate (default 90)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("bench/results"),
        help="results folder (default bench/results)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        help="where estates and warehouses go (default RONGHE_HOME/bench); estates are reused",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from ronghe.bench.harness import STAGES, BenchOptions, run_bench
    from ronghe.bench.report import write_results
    from ronghe.settings import load_settings

    stages = STAGES if args.stage == "all" else (args.stage,)
    options = BenchOptions(
        scale=args.scale,
        seed=args.seed,
        days=args.days,
        stages=stages,
        work_dir=args.work or load_settings().home / "bench",
        incremental=args.incremental or args.stage == "all",
    )
    report = run_bench(options)
    paths = write_results(report, args.out)
    print(paths["markdown"].read_text(encoding="utf-8"))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 1 if "failed" in report else 0
