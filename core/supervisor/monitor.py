"""HeartbeatMonitor: an untethered observer of a desk's heartbeats stream.

Used by the supervisor (liveness of its daemons), `aerodesk status` and tests. Untethered: a slow or
stopped observer never holds back the daemons. It keeps the latest daemon heartbeat per role (the
daemon's name in its profile); per-strategy heartbeats of strategy hosts (strategyId != 0) are kept
apart in `strategies`. `received` is this process's monotonic time of arrival, so ages never depend
on another process's clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.bus.client import BusClient
from core.bus.dispatch import aerodesk_dispatcher
from core.codec.messages import Heartbeat, LatencySample, decode


@dataclass
class HeartbeatInfo:
    role: str
    pid: int
    state: str  # Starting | Running | Degraded | Stopping (or UNKNOWN_<n>)
    seq: int
    ts: int  # the daemon's clock, epoch ns
    started_ts: int
    strategy_id: int
    received: float  # time.monotonic() of arrival here
    counters: dict[str, int] = field(default_factory=dict)

    def age_s(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.received


class HeartbeatMonitor:
    def __init__(
        self,
        bus: BusClient,
        *,
        on_heartbeat: Callable[[HeartbeatInfo], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.latest: dict[str, HeartbeatInfo] = {}
        self.strategies: dict[tuple[str, int], HeartbeatInfo] = {}
        self.received = 0
        self._on_heartbeat = on_heartbeat
        self._clock = clock
        dispatcher = aerodesk_dispatcher(decoder=decode, label="heartbeats")
        dispatcher.on(Heartbeat.TEMPLATE_ID, self._on_message)
        # exec's tick-to-order telemetry shares the stream; it says nothing of health (and is not bad input)
        dispatcher.on(LatencySample.TEMPLATE_ID, _ignore)
        self.subscriber = bus.subscriber("heartbeats", dispatcher, tether=False)

    def poll(self) -> int:
        return self.subscriber.poll()

    def _on_message(self, m: Any, _header: Any) -> None:
        info = HeartbeatInfo(
            role=m.role or "",
            pid=m.pid,
            state=m.state.name,
            seq=m.seq,
            ts=m.ts,
            started_ts=m.startedTs,
            strategy_id=m.strategyId,
            received=self._clock(),
            counters={c.name: c.value for c in m.counters},
        )
        self.received += 1
        if info.strategy_id:
            self.strategies[(info.role, info.strategy_id)] = info
            return
        self.latest[info.role] = info
        if self._on_heartbeat is not None:
            self._on_heartbeat(info)


def _ignore(_m: Any, _header: Any) -> None:
    pass
