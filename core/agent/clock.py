"""Clocks: the only way agents read time, so live runs and replays/backtests behave identically.

Live daemons get a SystemClock; replay and backtest drive a SimulatedClock from recorded or simulated
timestamps. All times are int64 nanoseconds since the Unix epoch.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def time_ns(self) -> int:
        """Nanoseconds since the Unix epoch."""
        ...


class SystemClock:
    """Wall-clock epoch time (time.time_ns)."""

    def time_ns(self) -> int:
        return time.time_ns()


class SimulatedClock:
    """Time that moves only when told to; it never moves backwards (replays are ordered by time)."""

    def __init__(self, start_ns: int = 0) -> None:
        if start_ns < 0:
            raise ValueError(f"clock start must be >= 0 ns since the epoch, got {start_ns}")
        self._now_ns = start_ns

    def time_ns(self) -> int:
        return self._now_ns

    def set(self, now_ns: int) -> None:
        if now_ns < self._now_ns:
            raise ValueError(f"simulated clock cannot go back from {self._now_ns} to {now_ns} ns")
        self._now_ns = now_ns

    def advance(self, delta_ns: int) -> int:
        if delta_ns < 0:
            raise ValueError(f"simulated clock cannot advance by a negative {delta_ns} ns")
        self._now_ns += delta_ns
        return self._now_ns
