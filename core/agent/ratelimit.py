"""Rate-limited reporting: one log line per reason per interval, with how many were suppressed.

A flood of bad input or a failing duty cycle must be visible without drowning the log (or the
process, since logging costs microseconds). Counters carry the exact totals; the log carries the
first occurrence and then at most one line per reason per interval.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

DEFAULT_INTERVAL_NS = 10_000_000_000


class RateLimitedLog:
    def __init__(
        self,
        logger: logging.Logger,
        interval_ns: int = DEFAULT_INTERVAL_NS,
        nano_clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.logger = logger
        self.interval_ns = interval_ns
        self._clock = nano_clock
        self._next_ns: dict[str, int] = {}
        self._suppressed: dict[str, int] = {}

    def report(
        self, reason: str, message: str, *, level: int = logging.WARNING, exc: BaseException | None = None
    ) -> bool:
        """Log `message` unless `reason` was logged less than an interval ago; True if it was logged."""
        now = self._clock()
        if now < self._next_ns.get(reason, now):
            self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
            return False
        self._next_ns[reason] = now + self.interval_ns
        suppressed = self._suppressed.pop(reason, 0)
        if suppressed:
            message = f"{message} ({suppressed} more like this since the last report)"
        self.logger.log(level, message, exc_info=exc)
        return True
