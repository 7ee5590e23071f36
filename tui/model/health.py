"""Desk health: each daemon's heartbeat (age, state, counters) and tick-to-order latency percentiles.

Ages are measured on this process's monotonic clock from when a heartbeat was *received*, so a daemon
that stops beating ages even if clocks differ between hosts. A daemon silent longer than the stale
timeout is stale; its last known state stays on screen, marked.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from core.codec.messages import DaemonState


@dataclass(slots=True)
class DaemonHealth:
    role: str
    strategy_id: int
    pid: int
    state: DaemonState
    seq: int
    started_ts: int
    last_seen_ns: int  # local monotonic
    beats: int = 0
    counters: dict[str, int] = field(default_factory=dict)


class Health:
    def __init__(self) -> None:
        self.daemons: dict[tuple[str, int], DaemonHealth] = {}
        self.last_beat_ns = 0  # local monotonic time of the newest heartbeat from anyone
        self.version = 0

    def on_heartbeat(self, m: Any, now_ns: int) -> None:
        key = (m.role, m.strategyId)
        d = self.daemons.get(key)
        counters = {c.name: c.value for c in m.counters}
        if d is None or d.pid != m.pid:
            d = self.daemons[key] = DaemonHealth(
                m.role, m.strategyId, m.pid, m.state, m.seq, m.startedTs, now_ns, 0, counters
            )
        d.state = m.state
        d.seq = m.seq
        d.started_ts = m.startedTs
        d.last_seen_ns = now_ns
        d.beats += 1
        d.counters = counters
        self.last_beat_ns = now_ns
        self.version += 1


# Stages of tick-to-order, from the md publish time of the tick that led to an order.
LATENCY_STAGES = ("tick→order", "tick→oms", "tick→ack")


class LatencyWindow:
    """The last `size` samples per stage (ns), for exact percentiles of recent behaviour."""

    def __init__(self, size: int = 4096) -> None:
        self.samples: dict[str, deque[int]] = {s: deque(maxlen=size) for s in LATENCY_STAGES}
        self.source = ""  # "LatencySample" or "NewOrder" (sendTs - triggerTs)
        self.count = 0
        self.version = 0

    def on_latency_sample(self, m: Any) -> None:
        if m.mdPublishTs <= 0:
            return
        self.source = "LatencySample"
        for stage, ts in zip(LATENCY_STAGES, (m.strategySendTs, m.omsAcceptTs, m.venueAckTs), strict=True):
            if ts > 0:
                self.samples[stage].append(ts - m.mdPublishTs)
        self.count += 1
        self.version += 1

    def on_new_order(self, send_ts: int, trigger_ts: int) -> None:
        """Fallback when no LatencySample flows: a strategy's NewOrder carries the tick's publish time."""
        if trigger_ts <= 0 or send_ts < trigger_ts or self.source == "LatencySample":
            return
        self.source = "NewOrder"
        self.samples["tick→order"].append(send_ts - trigger_ts)
        self.count += 1
        self.version += 1

    def percentiles(self, stage: str) -> tuple[int, int, int, int] | None:
        """(count, p50, p99, max) in ns over the window, None without samples."""
        s = self.samples[stage]
        if not s:
            return None
        ordered = sorted(s)
        n = len(ordered)
        return n, ordered[_rank(50, n)], ordered[_rank(99, n)], ordered[-1]


def _rank(percent: int, n: int) -> int:
    """Index of the nearest-rank percentile: the smallest sample with at least percent% at or below it."""
    return max(0, -(-percent * n // 100) - 1)
