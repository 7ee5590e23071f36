"""Replay benchmark of a LOBSTER dataset: messages per second through the L3 book with the window rule
and a comparison against every orderbook row, against just reading and pairing those rows."""

from __future__ import annotations

import gc
import time
from pathlib import Path

from adapters.lobster.config import LobsterDataConfig
from adapters.lobster.data import LobsterDataClient
from adapters.lobster.files import discover
from adapters.lobster.replay import iter_steps
from core.bench.report import BenchCase


def replay_bench_case(path: str | Path, repeats: int = 3) -> BenchCase:
    """Best-of-`repeats` msg/s of a full truth check, with the file reading alone as the baseline."""
    files = discover(path)
    read_rate = check_rate = 0.0
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            n = sum(1 for _ in iter_steps(files))
            read_rate = max(read_rate, n * 1e9 / (time.perf_counter_ns() - t0))
            client = LobsterDataClient(LobsterDataConfig(str(path)))
            t0 = time.perf_counter_ns()
            result = client.check()
            check_rate = max(check_rate, result.messages * 1e9 / (time.perf_counter_ns() - t0))
            if not result.ok:
                raise RuntimeError(f"{path}: the truth check failed during the benchmark: {result.to_dict()}")
    finally:
        if gc_was_enabled:
            gc.enable()
    return BenchCase(
        f"LOBSTER replay + per-message truth check ({files.symbol} level {files.level}, {n:,} messages)",
        "msg/s",
        {"value": check_rate},
        "reading and pairing the message and orderbook rows only",
        {"value": read_rate},
    )
