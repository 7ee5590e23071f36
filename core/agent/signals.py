"""Clean shutdown on SIGTERM/SIGINT, and the main loop of a daemon process.

    def main() -> int:
        return run_agents_main([bus_client, oms_agent], idle_strategy=backoff())

The first SIGTERM or SIGINT stops the duty cycle after the current cycle; every agent's on_close runs on
the main thread and the process exits 0 (1 if an agent failed). The default handlers are restored after
the first signal, so a second Ctrl-C interrupts a shutdown that hangs.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from types import FrameType, TracebackType

from core.agent.agent import Agent
from core.agent.composite import CompositeAgent
from core.agent.idle import IdleStrategy
from core.agent.runner import AgentRunner, ErrorPolicy

log = logging.getLogger("aerodesk.agent")

SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class ShutdownSignals:
    """While active, SIGTERM/SIGINT call `on_signal(signum)` once (main thread only, as Python requires)."""

    def __init__(
        self, on_signal: Callable[[int], None], signals: Sequence[signal.Signals] = SHUTDOWN_SIGNALS
    ) -> None:
        self.on_signal = on_signal
        self.signals = tuple(signals)
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> ShutdownSignals:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("signal handlers can only be installed from the main thread")
        for s in self.signals:
            self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._restore()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        self._restore()  # a second signal gets the default behaviour
        log.info("received %s: shutting down", signal.Signals(signum).name)
        self.on_signal(signum)

    def _restore(self) -> None:
        for s, previous in self._previous.items():
            signal.signal(s, previous)  # type: ignore[arg-type]
        self._previous.clear()


def run_agents_main(
    agents: Sequence[Agent],
    *,
    idle_strategy: IdleStrategy | None = None,
    error_policy: ErrorPolicy = ErrorPolicy.STOP,
    role_name: str | None = None,
) -> int:
    """Run the agents in one duty cycle on the main thread until SIGTERM/SIGINT; return an exit code.

    A daemon's agents (its bus client first, so it connects before the others start) share the thread;
    by default an exception in do_work is fatal: the daemon closes cleanly and exits 1 for its
    supervisor to restart it, rather than carrying on half-dead.
    """
    agent: Agent = agents[0] if len(agents) == 1 and role_name is None else CompositeAgent(agents, role_name)
    runner = AgentRunner(agent, idle_strategy, error_policy=error_policy)
    with ShutdownSignals(lambda _signum: runner.stop()):
        runner.run()
    if runner.failed:
        log.error("%s stopped after a failure: %s", agent.role_name, runner.last_error)
        return 1
    return 0
