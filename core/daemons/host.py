"""DaemonHost: what every daemon process has in common.

It owns the process's BusClient, the clock, the heartbeat publisher and the daemon's agents, and runs
them all in one duty cycle on the main thread (bus client first, so it connects before the others
start). A daemon kind only builds its agents:

    def build(host: DaemonHost, spec: DaemonSpec) -> list[Agent]: ...

Agents that expose `counters() -> dict[str, int]` get them published in the heartbeat, prefixed with
their role name (keep role name + counter name within 32 characters, the heartbeat's name width).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from core.agent.agent import Agent
from core.agent.clock import Clock, SystemClock
from core.agent.idle import WakeIdle, parse_idle_strategy
from core.agent.runner import ErrorPolicy
from core.agent.signals import run_agents_main
from core.bus.client import BusClient
from core.bus.doorbell import DoorbellSignal
from core.codec.messages import DaemonState
from core.daemons.heartbeat import HeartbeatPublisher
from core.daemons.profile import DaemonSpec, Profile

log = logging.getLogger("aerodesk.daemon")


class DaemonHost:
    def __init__(
        self,
        instance: str,
        profile: Profile,
        spec: DaemonSpec,
        *,
        clock: Clock | None = None,
        bus: BusClient | None = None,
    ) -> None:
        self.instance = instance
        self.profile = profile
        self.spec = spec
        self.clock: Clock = clock or SystemClock()
        self.bus = bus or BusClient(instance, role_name=spec.name)
        self.agents: list[Agent] = []
        self.heartbeat = HeartbeatPublisher(
            self.bus.publisher("heartbeats"),
            self.clock,
            role=spec.name,
            instance=instance,
            interval_ns=profile.heartbeat_interval_ms * 1_000_000,
            counters=self.counters,
        )
        self._extra_counters: list[Callable[[], dict[str, int]]] = []
        self._deadline_sources: list[Callable[[], int | None]] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def add_counters(self, source: Callable[[], dict[str, int]]) -> None:
        self._extra_counters.append(source)

    def counters(self) -> dict[str, int]:
        """Every counter, most telling first: the agents' own, then bus counters that moved, then the
        rest (a heartbeat carries at most MAX_COUNTERS, so idle bus counters are the first left out)."""
        out: dict[str, int] = {}
        for agent in self.agents:
            source = getattr(agent, "counters", None)
            if callable(source):
                for k, v in source().items():
                    out[f"{agent.role_name}.{k}"] = v
        for source in self._extra_counters:
            out.update(source())
        bus = self.bus.counters_dict()
        out.update((k, v) for k, v in bus.items() if v and k not in out)
        out.update((k, v) for k, v in bus.items() if k not in out)
        return out

    def still_starting(self, progress: dict[str, int] | None = None) -> bool:
        """Tell the supervisor that a long start (an oms replaying its WAL) is still under way: a
        heartbeat with state Starting, at most one per heartbeat interval, carrying `progress` as
        counters. The supervisor extends the daemon's start-up deadline at each one (it waits for
        Running). Connects the bus first when it must; False when no heartbeat went out (no driver
        yet, or not due)."""
        hb = self.heartbeat
        now = self.clock.time_ns()
        if now < hb.next_due_ns:
            return False
        if not self.bus.ensure_connected():  # a driver replaced meanwhile is found again too
            return False
        hb.next_due_ns = now + hb.interval_ns
        return hb.beat(now, progress)

    def next_deadline_ns(self) -> int | None:
        """The earliest timer of the daemon's agents (those with `next_deadline_ns()`, on the host's clock):
        an idle wait ends by then."""
        sources = self._deadline_sources
        if sources is None:
            found = (getattr(agent, "next_deadline_ns", None) for agent in self.agents)
            sources = self._deadline_sources = [f for f in found if f is not None]
        due: int | None = None
        for source in sources:
            try:
                t = source()
            except Exception as e:  # a timer hint must never take the daemon down: poll without it
                sources.remove(source)
                log.error("daemon %s: next_deadline_ns of %r failed (%r); its timers are polled", self.name,
                          source, e)  # fmt: skip
                return None
            if t is not None and (due is None or t < due):
                due = t
        return due

    def duty_agents(self, agents: Sequence[Agent]) -> list[Agent]:
        """The daemon's agents followed by its heartbeat: what runs in its duty cycle after the bus
        client (a composite daemon runs its members' in one cycle, see core/daemons/composite.py)."""
        self.agents = list(agents)
        self._deadline_sources = None
        return [*self.agents, _MarkRunning(self.heartbeat), self.heartbeat]

    def run(self, agents: Sequence[Agent]) -> int:
        """Run until SIGTERM/SIGINT; the exit code is 0 on a clean stop, 1 when an agent failed."""
        idle = parse_idle_strategy(self.spec.idle_strategy)
        doorbell = DoorbellSignal(self.bus)  # last in the cycle: one ring for what the cycle sent
        if isinstance(idle, WakeIdle):
            idle.bind(doorbell, self.next_deadline_ns, self.clock.time_ns)
        return run_agents_main(
            [self.bus, *self.duty_agents(agents), doorbell],
            idle_strategy=idle,
            error_policy=ErrorPolicy.STOP,
            role_name=self.spec.name,
        )


class _MarkRunning:
    """Flips the heartbeat to Running once every agent before it has started."""

    role_name = "running"

    def __init__(self, heartbeat: HeartbeatPublisher) -> None:
        self.heartbeat = heartbeat

    def on_start(self) -> None:
        self.heartbeat.state = DaemonState.Running

    def do_work(self) -> int:
        return 0

    def on_close(self) -> None:
        pass
