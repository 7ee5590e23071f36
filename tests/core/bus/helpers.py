"""Polling helpers for bus tests: drive clients and subscribers until a condition holds."""

from __future__ import annotations

import time
from collections.abc import Callable

from core.bus import BusClient, Subscriber

SAFETY_TIMEOUT_S = 30.0  # a hang guard, not a performance limit


def poll_until(
    done: Callable[[], bool],
    clients: list[BusClient],
    subscribers: list[Subscriber],
    timeout_s: float = SAFETY_TIMEOUT_S,
) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        work = sum(c.do_work() for c in clients) + sum(s.poll() for s in subscribers)
        if done():
            return True
        if work == 0:
            time.sleep(0.001)
    return done()


def wait_connected(pub_or_sub: object, clients: list[BusClient], timeout_s: float = SAFETY_TIMEOUT_S) -> None:
    ok = poll_until(lambda: pub_or_sub.is_connected, clients, [], timeout_s)  # type: ignore[attr-defined]
    assert ok, f"{pub_or_sub} did not connect"
