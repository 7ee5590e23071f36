"""Idle strategies: what a duty-cycle loop does when an agent reports no work.

They are pyaeron's C idle strategies (they release the GIL while parking or yielding):

- `backoff()` (the default): park with an exponentially growing sleep capped at `max_park_ns` (Agrona's
  spin and yield phases are off by default: in Python each spin is a whole do_work duty cycle, ~10-30 us
  of CPU, so after every message they burned CPU without waking any sooner than a 1 us park, which the
  kernel's timer slack already rounds up to ~50 us). The cap is the worst-case wake-up latency:
  Aeron's default 1 ms cap measured a 1.07 ms ping-pong p50 here, a 50 us cap ~110 us p50 at 11-36 % of
  a core, so the default cap is 50 us.
- `busy_spin()`: lowest latency (~1 us RTT) but a full core per spinning thread; opt-in only. On a
  2-core host two spinning processes starve the media driver.
- `yielding()`: sched_yield between cycles; ~2 us RTT, still a core's worth of CPU when others are idle.
- `sleeping(period_ns)`: a fixed sleep; for observers and tools where milliseconds do not matter.
- `noop()`: never idles (for loops driven from outside, e.g. a backtest stepping agents).
- `wake(max_wait_ns)`: sleep until a message may have come, at most `max_wait_ns`: a WakeSignal (the
  desk's doorbell, core/bus/doorbell.py, bound by the daemon host) ends the sleep when another process
  sends on a stream this one subscribes to. Wake-up latency is one futex wake (~50-60 us measured on a
  2-core VM, where an idle vCPU must be woken); a raw relay process on it used 2-4 % of a core, where a
  backoff:50us poll costs 11-36 %. Unbound (no desk, no futex) it sleeps `max_wait_ns`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import pyaeron

DEFAULT_MAX_SPINS = 0
DEFAULT_MAX_YIELDS = 0
DEFAULT_MIN_PARK_NS = 1_000
DEFAULT_MAX_PARK_NS = 50_000
DEFAULT_SLEEP_NS = 1_000_000
DEFAULT_MAX_WAIT_NS = 1_000_000


@runtime_checkable
class IdleStrategy(Protocol):
    def idle(self, work_count: int = 0) -> None:
        """Idle when work_count is 0; reset any back-off state when it is positive."""
        ...

    def reset(self) -> None: ...


@runtime_checkable
class WakeSignal(Protocol):
    """Tells an idle agent that a message may have come for it (see WakeIdle)."""

    def arm(self) -> None:
        """Remember "now": a later wait returns at once if anything was sent since. Called before the
        duty cycle's polls (at the end of the previous cycle)."""
        ...

    def wait(self, timeout_ns: int) -> None:
        """Sleep until something was sent since arm(), or timeout_ns passes."""
        ...


class WakeIdle:
    """Sleeps until a bound WakeSignal fires, at most `max_wait_ns`, and never past the next deadline the
    agents report (so a timer fires on time however long the max wait)."""

    def __init__(self, max_wait_ns: int = DEFAULT_MAX_WAIT_NS) -> None:
        if max_wait_ns <= 0:
            raise ValueError(f"wake needs a positive max wait, got {max_wait_ns} ns")
        self.max_wait_ns = max_wait_ns
        self.signal: WakeSignal | None = None
        self._deadline: Callable[[], int | None] | None = None
        self._now: Callable[[], int] = time.time_ns
        self._overdue = False
        self._sleep = pyaeron.IdleStrategy.sleeping(max_wait_ns)

    def bind(
        self,
        signal: WakeSignal,
        deadline: Callable[[], int | None] | None = None,
        now: Callable[[], int] = time.time_ns,
    ) -> None:
        """deadline: the agents' next timer (ns on the `now` clock; None: none), read before each wait."""
        self.signal = signal
        self._deadline = deadline
        self._now = now
        signal.arm()

    def idle(self, work_count: int = 0) -> None:
        signal = self.signal
        if signal is None:
            if work_count <= 0:
                self._sleep.idle(0)
            return
        if work_count > 0:
            self._overdue = False
        else:
            timeout = self.max_wait_ns
            deadline = self._deadline
            due = deadline() if deadline is not None else None
            if due is not None:
                timeout = min(timeout, due - self._now())
            if timeout <= 0 and not self._overdue:
                self._overdue = True  # due now: run the next cycle at once, which should fire it
            else:
                # a deadline still overdue after a cycle is one its agent is holding back (a retry
                # pause): waiting the max wait instead of spinning on it
                self._overdue = False
                signal.wait(timeout if timeout > 0 else self.max_wait_ns)
        signal.arm()  # before the next cycle polls: what comes after that ends the next wait

    def reset(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"WakeIdle(max_wait_ns={self.max_wait_ns}, bound={self.signal is not None})"


def wake(max_wait_ns: int = DEFAULT_MAX_WAIT_NS) -> WakeIdle:
    return WakeIdle(max_wait_ns)


def backoff(
    *,
    max_spins: int = DEFAULT_MAX_SPINS,
    max_yields: int = DEFAULT_MAX_YIELDS,
    min_park_ns: int = DEFAULT_MIN_PARK_NS,
    max_park_ns: int = DEFAULT_MAX_PARK_NS,
) -> IdleStrategy:
    if not 0 < min_park_ns <= max_park_ns:
        raise ValueError(f"backoff needs 0 < min_park_ns <= max_park_ns, got {min_park_ns}, {max_park_ns}")
    return pyaeron.IdleStrategy.backoff(
        max_spins=max_spins, max_yields=max_yields, min_park_ns=min_park_ns, max_park_ns=max_park_ns
    )


def busy_spin() -> IdleStrategy:
    return pyaeron.IdleStrategy.busy_spin()


def yielding() -> IdleStrategy:
    return pyaeron.IdleStrategy.yielding()


def sleeping(period_ns: int = DEFAULT_SLEEP_NS) -> IdleStrategy:
    if period_ns <= 0:
        raise ValueError(f"sleeping period must be positive, got {period_ns} ns")
    return pyaeron.IdleStrategy.sleeping(period_ns)


def noop() -> IdleStrategy:
    return pyaeron.IdleStrategy.noop()


def default_idle_strategy() -> IdleStrategy:
    return backoff()


_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_SPEC = re.compile(r"^(?P<name>[a-z-]+)(?::(?P<amount>\d+)(?P<unit>ns|us|ms|s))?$")
NAMES = ("backoff", "busy-spin", "yielding", "sleeping", "noop", "wake")


def parse_idle_strategy(spec: str) -> IdleStrategy:
    """From a config or command-line string: `backoff`, `backoff:50us` (max park), `busy-spin`,
    `yielding`, `sleeping`, `sleeping:1ms` (period), `noop`, `wake`, `wake:1ms` (max wait)."""
    m = _SPEC.match(spec.strip().lower())
    if not m or m["name"] not in NAMES:
        raise ValueError(
            f"unknown idle strategy {spec!r}: expected one of {', '.join(NAMES)}, "
            "optionally with a duration such as backoff:50us, sleeping:1ms or wake:1ms"
        )
    name = m["name"]
    ns = int(m["amount"]) * _UNITS[m["unit"]] if m["amount"] else None
    if ns is not None and name not in ("backoff", "sleeping", "wake"):
        raise ValueError(f"idle strategy {name!r} takes no duration (got {spec!r})")
    if name == "backoff":
        return backoff(max_park_ns=ns) if ns is not None else backoff()
    if name == "sleeping":
        return sleeping(ns) if ns is not None else sleeping()
    if name == "wake":
        return wake(ns) if ns is not None else wake()
    return {"busy-spin": busy_spin, "yielding": yielding, "noop": noop}[name]()
