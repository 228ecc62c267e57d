"""`ronghe serve-ecommerce`: serve an estate's e-commerce data as the contract's API."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from pathlib import Path

log = logging.getLogger("ronghe.ecommerce_api")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve-ecommerce",
        help="serve an estate's e-commerce data over the contract's HTTP API",
        description=(
            "Serve DIR/ecommerce/<platform>/{orders,customers,listings}.jsonl and "
            "DIR/ecommerce/coupons.jsonl as GET /v1/orders, /v1/customers, /v1/listings "
            "and /v1/coupons (plus GET /health), with optional injected 429/5xx/410 responses."
        ),
    )
    add_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sources", required=True, type=Path, metavar="DIR", help="estate root")
    parser.add_argument("--port", required=True, type=int, help="TCP port (0 picks a free one)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default %(default)s)"
    )
    parser.add_argument(
        "--token",
        help="bearer token clients must send (default: RONGHE_ECOM_API_TOKEN, "
        "else the demo token 'ronghe-demo-token')",
    )
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of requests answered 500/503"
    )
    parser.add_argument(
        "--throttle-rate", type=float, default=0.0, help="share of requests answered 429"
    )
    parser.add_argument(
        "--retry-after", type=int, default=1, help="seconds announced in Retry-After on 429"
    )
    parser.add_argument(
        "--cursor-ttl", type=float, default=600.0, help="seconds before a cursor gets 410 Gone"
    )
    parser.add_argument(
        "--expire-cursor-rate",
        type=float,
        default=0.0,
        help="share of cursor requests answered 410 although the cursor is fresh",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the injected faults (same seed, same faults)"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING"],
        help="INFO logs start-up and every non-200 answer; DEBUG also every page served",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ronghe.ecommerce_api.server import (
        DEMO_TOKEN,
        READY_PREFIX,
        ServerOptions,
        bind,
        build_api,
        serve_until_stopped,
    )
    from ronghe.ecommerce_api.store import EstateLoadError
    from ronghe.settings import load_settings

    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    token = args.token or load_settings().ecom_api_token or DEMO_TOKEN
    if token == DEMO_TOKEN:
        log.warning("accepting the public demo token; pass --token for anything but local use")
    try:
        options = ServerOptions(
            token=token,
            fault_rate=args.fault_rate,
            throttle_rate=args.throttle_rate,
            retry_after=args.retry_after,
            cursor_ttl=args.cursor_ttl,
            expire_cursor_rate=args.expire_cursor_rate,
            seed=args.seed,
        )
        api = build_api(args.sources, options)
    except (EstateLoadError, ValueError) as error:
        log.error("cannot serve %s: %s", args.sources, error)
        return 2
    http_server = bind(api, args.host, args.port)
    host, port = http_server.server_address[:2]
    url = f"http://{host}:{port}"
    log.info("serving %s at %s, versions %s", args.sources, url, api.estate.counts())
    # SIGTERM ends serve_forever like Ctrl-C does, so the socket is closed cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{READY_PREFIX}{url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve_until_stopped(http_server)
    log.info("stopped; answers by status %s", dict(sorted(api.status_counts.items())))
    return 0
