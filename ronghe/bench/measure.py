"""Measure one call in a fresh process: its wall time, peak resident memory and result.

A fresh (spawned) interpreter per measurement keeps each peak memory figure
its own, and the call runs with exactly the environment it is given, so a
benchmark never leaks settings from one stage into the next.
"""

from __future__ import annotations

import importlib
import os
import platform
import resource
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import psutil


def measure(
    target: str, *args: Any, env: dict[str, str] | None = None, log: Path | None = None
) -> dict[str, Any]:
    """Call `target` ("package.module:function") with `args` in a fresh process.

    Returns {seconds, peak_rss_mib, result}; `seconds` is timed inside the
    child, so interpreter start-up is not counted (the call's imports are).
    With `log`, everything the call prints (dbt, the extractors' events) goes
    to that file instead of the terminal.
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        log_name = str(log) if log else None
        return pool.submit(_timed_call, target, args, env or {}, log_name).result()


def _timed_call(
    target: str, args: tuple[Any, ...], env: dict[str, str], log: str | None = None
) -> dict[str, Any]:
    os.environ.update(env)
    if log:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        # file descriptors, not sys.stdout: loggers configured at import keep their streams
        with open(log, "a", encoding="utf-8") as output:
            os.dup2(output.fileno(), 1)
            os.dup2(output.fileno(), 2)
    module_name, function_name = target.split(":")
    started = time.perf_counter()
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(*args)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "result": result,
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def settings_under(env: Mapping[str, str]) -> Any:
    """What `load_settings` reads with `env` set; this process's environment stays as it was."""
    from ronghe.settings import load_settings

    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return load_settings()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
