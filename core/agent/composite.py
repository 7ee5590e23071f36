"""CompositeAgent: several agents sharing one duty cycle (one thread, one idle strategy).

The low-latency profile runs the hot path (md -> strategy -> oms) this way on one spinning thread, and
the backtester runs every agent in one thread. Each cycle calls every agent's `do_work` in order; one
agent raising does not starve the others in that cycle: the first failure is re-raised after the cycle
(as an AgentError naming the agent) so the runner counts it and applies its policy.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from core.agent.agent import Agent, AgentError

log = logging.getLogger("aerodesk.agent")


class CompositeAgent:
    def __init__(self, agents: Iterable[Agent], role_name: str | None = None) -> None:
        self.agents: tuple[Agent, ...] = tuple(agents)
        if not self.agents:
            raise ValueError("a composite agent needs at least one agent")
        self.role_name = role_name or "[" + ",".join(a.role_name for a in self.agents) + "]"
        self._started: list[Agent] = []
        self._duty = tuple(zip(self.agents, (a.do_work for a in self.agents), strict=True))

    def on_start(self) -> None:
        """Start agents in order; if one fails, close the ones already started (reverse order), re-raise."""
        for agent in self.agents:
            try:
                agent.on_start()
            except Exception as e:
                with contextlib.suppress(AgentError):  # logged; the start failure is the one to report
                    self.on_close()
                raise AgentError(agent.role_name, "on_start", e) from e
            self._started.append(agent)

    def do_work(self) -> int:
        work = 0
        failure: AgentError | None = None
        for agent, do_work in self._duty:
            try:
                work += do_work()
            except Exception as e:
                if failure is None:
                    failure = AgentError(agent.role_name, "do_work", e)
                else:
                    log.error(
                        "agent %r also raised in this cycle: %s: %s", agent.role_name, type(e).__name__, e
                    )
        if failure is not None:
            raise failure from failure.cause
        return work

    def on_close(self) -> None:
        """Close started agents in reverse order; every one is closed even if some raise."""
        failure: AgentError | None = None
        while self._started:
            agent = self._started.pop()
            try:
                agent.on_close()
            except Exception as e:
                log.error("agent %r raised in on_close: %s: %s", agent.role_name, type(e).__name__, e)
                failure = failure or AgentError(agent.role_name, "on_close", e)
        if failure is not None:
            raise failure from failure.cause
