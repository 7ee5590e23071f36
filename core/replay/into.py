"""Replay a journal into a running desk: `aerodesk replay JOURNAL --into INSTANCE`.

    result = replay_into(journal, "demo", speed=2.0, streams=["market_data"], on_progress=print)

Selects the records of the chosen streams (by name, default market_data) with the journal's index,
connects to the target desk (DeskNotRunning at once if it is not running), waits up to
connect_timeout_s for a subscriber on every chosen stream, then runs a ReplayAgent beside the bus
client in one duty cycle until every record was sent or `should_stop()` says so. Payloads are sent
as recorded, byte for byte.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.agent.clock import Clock, SystemClock
from core.agent.idle import IdleStrategy, backoff
from core.bus.client import BusClient
from core.journal import Damage, JournalReader
from core.recorder.names import StreamNames
from core.replay.bus_sink import BusSink
from core.replay.engine import ReplayAgent, ReplayProgress

DEFAULT_STREAMS = ("market_data",)
PROGRESS_INTERVAL_NS = 1_000_000_000


@dataclass
class ReplayResult:
    journal: Path
    instance: str
    selected: int
    sent: int
    dropped: dict[tuple[str, str], int]
    retries: int
    elapsed_ns: int
    recorded_span_ns: int
    stopped: bool  # ended early by should_stop
    unconnected: list[str] = field(default_factory=list)  # streams with no subscriber at the start
    damage: list[Damage] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.stopped and self.sent == self.selected and not any(d.loses_data for d in self.damage)


def replay_into(
    journal: Path,
    instance: str,
    *,
    speed: float | None = 1.0,
    streams: tuple[str, ...] | list[str] = DEFAULT_STREAMS,
    connect_timeout_s: float = 5.0,
    on_progress: Callable[[ReplayProgress], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    clock: Clock | None = None,
    idle: IdleStrategy | None = None,
    names: StreamNames | None = None,
) -> ReplayResult:
    clock = clock or SystemClock()
    idle = idle or backoff()
    names = names or StreamNames()
    stream_ids = {names.resolve(s): s for s in streams}
    for sid, name in stream_ids.items():
        stream_ids[sid] = names.name(sid) if name.isdigit() else name
    reader = JournalReader(journal)
    selected = reader.scan(stream_ids=list(stream_ids))
    times = selected["receive_time_ns"]
    span = int(times.max() - times.min()) if len(selected) else 0
    bus = BusClient(instance, role_name="replay")
    try:
        sink = BusSink(bus, stream_ids)
        bus.connect()
        deadline = time.monotonic() + connect_timeout_s
        while not sink.all_connected() and time.monotonic() < deadline and not should_stop():
            idle.idle(bus.do_work())
        unconnected = sink.unconnected()
        agent = ReplayAgent(
            reader.records(stream_ids=list(stream_ids)),
            sink,
            clock,
            speed=speed,
            total=len(selected),
            recorded_span_ns=span,
        )
        started = time.monotonic_ns()
        next_report = started + PROGRESS_INTERVAL_NS
        stopped = False
        while not agent.done:
            if should_stop():
                stopped = True
                break
            work = bus.do_work() + agent.do_work()
            if on_progress is not None and time.monotonic_ns() >= next_report:
                next_report += PROGRESS_INTERVAL_NS
                on_progress(agent.progress())
            idle.idle(work)
        elapsed = time.monotonic_ns() - started
        if on_progress is not None:
            on_progress(agent.progress())
    finally:
        bus.close()
    return ReplayResult(
        journal=journal,
        instance=instance,
        selected=len(selected),
        sent=agent.sent,
        dropped=dict(sink.dropped),
        retries=agent.retries,
        elapsed_ns=elapsed,
        recorded_span_ns=span,
        stopped=stopped,
        unconnected=unconnected,
        damage=reader.damage,
    )
