"""HeartbeatPublisher: every daemon says it is alive, in which state, with its counters.

The supervisor, `aerodesk status` and the TUI read these on the heartbeats stream; the oms uses the
strategy host's per-strategy heartbeats for its dead-man. The first MAX_COUNTERS counters of the
source (it puts the most telling first) are published, sorted by name, so a heartbeat stays one small
message.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from core.agent.clock import Clock
from core.bus.publisher import Publisher
from core.codec.messages import DaemonState, Heartbeat

MAX_COUNTERS = 64  # keeps a heartbeat well under the heartbeats stream's max message length
NAME_WIDTH = 32


class HeartbeatPublisher:
    """An agent: publishes a Heartbeat every `interval_ns` of the injected clock."""

    def __init__(
        self,
        publisher: Publisher,
        clock: Clock,
        *,
        role: str,
        instance: str,
        interval_ns: int,
        counters: Callable[[], dict[str, int]],
        strategy_id: int = 0,
    ) -> None:
        self.role_name = f"{role}.heartbeat" if strategy_id == 0 else f"{role}.heartbeat.{strategy_id}"
        self.publisher = publisher
        self.clock = clock
        self.role = role
        self.instance = instance
        self.interval_ns = interval_ns
        self.counters = counters
        self.strategy_id = strategy_id
        self.state = DaemonState.Starting
        self.seq = 0
        self.sent = 0
        self.started_ns = clock.time_ns()
        self.next_due_ns = 0
        self._buf = bytearray(8192)

    def on_start(self) -> None:
        self.started_ns = self.clock.time_ns()

    def do_work(self) -> int:
        now = self.clock.time_ns()
        if now < self.next_due_ns:
            return 0
        self.next_due_ns = now + self.interval_ns
        self.beat(now)
        return 1

    def beat(self, now: int | None = None, extra: dict[str, int] | None = None) -> bool:
        """Publish one heartbeat now (also used for the final Stopping beat); `extra` counters first."""
        now = self.clock.time_ns() if now is None else now
        self.seq += 1
        counters = self.counters()
        if extra:
            counters = {**extra, **counters}
        items = sorted(list(counters.items())[:MAX_COUNTERS])
        length = Heartbeat.encode(
            self._buf,
            0,
            ts=now,
            role=self.role[:NAME_WIDTH],
            pid=os.getpid(),
            state=self.state,
            seq=self.seq,
            startedTs=self.started_ns,
            strategyId=self.strategy_id,
            counters=[(name[:NAME_WIDTH], int(value)) for name, value in items],
            instance=self.instance,
        )
        ok = bool(self.publisher.offer(memoryview(self._buf)[:length]))
        if ok:
            self.sent += 1
        return ok

    def on_close(self) -> None:
        self.state = DaemonState.Stopping
        self.beat()
