"""A local server for the e-commerce API of the source contract (section 4).

It serves any estate folder that follows the contract, with switches that
inject throttling (429 + Retry-After), server errors (500/503) and expired
cursors (410), deterministic for a seed. Use `start_server` in-process (tests,
`ronghe run`), `start_server_process` for a separate process (benchmarks), or
the `ronghe serve-ecommerce` command.
"""

from ronghe.ecommerce_api.server import (
    DEMO_TOKEN,
    RunningServer,
    ServerOptions,
    ServerProcess,
    start_server,
    start_server_process,
)

__all__ = [
    "DEMO_TOKEN",
    "RunningServer",
    "ServerOptions",
    "ServerProcess",
    "start_server",
    "start_server_process",
]
