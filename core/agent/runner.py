"""AgentRunner: runs one agent's duty cycle on its own thread or on the calling thread.

    runner = AgentRunner(agent)              # backoff idle strategy, errors counted and survived
    runner.start()                           # on a new thread ...
    runner.run()                             # ... or on this one, until stop()
    runner.close()                           # stop, join; on_close has run on the agent's thread

An exception from `do_work` is counted, logged (rate-limited, traceback included) and, by policy,
either survived (CONTINUE: the next cycle runs) or fatal (STOP: the loop ends, `on_close` runs,
`failed` is set and `on_failure` is called so the owner can bring the process down). An exception in
`on_start` is always fatal. A runner never ends silently: either `stop()` was called or `failed` says
why.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable

from core.agent.agent import Agent
from core.agent.idle import IdleStrategy, default_idle_strategy
from core.agent.ratelimit import RateLimitedLog

log = logging.getLogger("aerodesk.agent")


class ErrorPolicy(enum.Enum):
    CONTINUE = "continue"  # count, report, run the next duty cycle
    STOP = "stop"  # count, report, close the agent and mark the runner failed


class AgentRunner:
    def __init__(
        self,
        agent: Agent,
        idle_strategy: IdleStrategy | None = None,
        *,
        error_policy: ErrorPolicy = ErrorPolicy.CONTINUE,
        on_failure: Callable[[AgentRunner], None] | None = None,
        report: RateLimitedLog | None = None,
    ) -> None:
        self.agent = agent
        self.idle_strategy = idle_strategy if idle_strategy is not None else default_idle_strategy()
        self.error_policy = error_policy
        self.on_failure = on_failure
        self._report = report or RateLimitedLog(log)
        self._running = False
        self._started = False
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.duty_cycles = 0
        self.errors = 0
        self.last_error: BaseException | None = None
        self.failed = False

    @property
    def role_name(self) -> str:
        return self.agent.role_name

    @property
    def is_running(self) -> bool:
        return self._running

    @property
    def is_closed(self) -> bool:
        return self._closed.is_set()

    def start(self) -> threading.Thread:
        """Run the agent on a new (daemon) thread named after its role."""
        self._claim()
        self._thread = threading.Thread(target=self._run, name=f"agent-{self.role_name}", daemon=True)
        self._thread.start()
        return self._thread

    def run(self) -> None:
        """Run the agent on the calling thread until `stop()` (e.g. from a signal handler) or a failure."""
        self._claim()
        self._run()

    def stop(self) -> None:
        """Ask the duty cycle to end after the current cycle; safe from any thread or a signal handler."""
        self._running = False

    def join(self, timeout: float | None = None) -> bool:
        """Wait until `on_close` has run; True if it has."""
        return self._closed.wait(timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        self.stop()
        if self._thread is None and not self._started:
            self._closed.set()
            return True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return self._closed.is_set()

    def counters(self) -> dict[str, int]:
        return {"duty_cycles": self.duty_cycles, "errors": self.errors, "failed": int(self.failed)}

    def _claim(self) -> None:
        if self._started:
            raise RuntimeError(f"agent runner for {self.role_name!r} was already started")
        self._started = True
        self._running = True

    def _run(self) -> None:
        try:
            if self._start_agent():
                self._loop()
        finally:
            self._running = False
            self._close_agent()
            self._closed.set()
        if self.failed and self.on_failure is not None:
            self.on_failure(self)

    def _start_agent(self) -> bool:
        try:
            self.agent.on_start()
            return True
        except Exception as e:
            self._record(e, "on_start")
            self._fail(e, "on_start")
            return False

    def _loop(self) -> None:
        agent_do_work = self.agent.do_work
        idle = self.idle_strategy.idle
        while self._running:
            try:
                work = agent_do_work()
            except Exception as e:
                work = 0
                self._record(e, "do_work")
                if self.error_policy is ErrorPolicy.STOP:
                    self._fail(e, "do_work")
                    return
            self.duty_cycles += 1
            idle(work)

    def _close_agent(self) -> None:
        try:
            self.agent.on_close()
        except Exception as e:
            self._record(e, "on_close")

    def _record(self, e: Exception, phase: str) -> None:
        self.errors += 1
        self.last_error = e
        self._report.report(
            f"{phase}:{type(e).__name__}",
            f"agent {self.role_name!r} raised in {phase}: {type(e).__name__}: {e} "
            f"(errors so far: {self.errors})",
            level=logging.ERROR,
            exc=e,
        )

    def _fail(self, e: Exception, phase: str) -> None:
        self.failed = True
        self._running = False
        log.critical(
            "agent %r stopped after a failure in %s: %s: %s", self.role_name, phase, type(e).__name__, e
        )
