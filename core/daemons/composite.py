"""The composite daemon kind: several daemon kinds' agents in one process, on one thread.

Each member is built by its own kind's builder, with its own config and its own DaemonHost (its name,
heartbeat and counters), all sharing the composite's BusClient and clock. The composite runs them in
one duty cycle in member order, with the composite's idle strategy: the low-latency profile puts the
hot path (md -> strategy -> oms -> exec) on one busy-spinning thread this way. Messages still go over
the bus (Aeron IPC between publications and subscriptions of the same process), so the recorder, the
TUI and the other daemons see everything as they would from separate processes.

The supervisor watches the composite's own heartbeat (bus counters and the member count); each member
also publishes its own heartbeat under its name, from the same pid, with its counters.
"""

from __future__ import annotations

from core.agent.agent import Agent
from core.agent.composite import CompositeAgent
from core.daemons.host import DaemonHost
from core.daemons.profile import DaemonSpec
from core.daemons.registry import builder


def build(host: DaemonHost, spec: DaemonSpec) -> list[Agent]:
    members: list[Agent] = []
    for member in spec.members:
        member_host = DaemonHost(host.instance, host.profile, member, clock=host.clock, bus=host.bus)
        agents = builder(member.kind)(member_host, member)
        # One agent per member, so the composite's heartbeat carries no member's counters twice and a
        # failure names the member it came from.
        members.append(CompositeAgent(member_host.duty_agents(agents), role_name=member.name))
    count = len(spec.members)
    host.add_counters(lambda: {"members": count})
    return members
