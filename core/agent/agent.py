"""The Agent protocol: a duty cycle that does a bounded amount of work and says how much.

Every daemon (and every piece of a daemon) is an Agent. A runner calls `on_start()` once, then
`do_work()` in a loop, idling when it returns 0, and `on_close()` once at the end, on its own
thread or the caller's. Agents never block and never read the wall clock directly (see clock.py).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Agent(Protocol):
    """`role_name` names the agent in logs, counters and heartbeats.

    Subclass it to inherit the no-op `on_start` / `on_close`; any object with these members fits.
    """

    role_name: str

    def on_start(self) -> None:
        """Called once on the runner's thread before the first `do_work`."""

    def do_work(self) -> int:
        """Do what is pending without blocking; return the work done (0 = idle, let the runner idle)."""
        ...

    def on_close(self) -> None:
        """Called once on the runner's thread after the last `do_work`, also after a failure."""


class AgentError(Exception):
    """An exception raised by one agent, tagged with its role so composite failures say who failed."""

    def __init__(self, role_name: str, phase: str, cause: BaseException) -> None:
        self.role_name = role_name
        self.phase = phase
        self.cause = cause
        super().__init__(f"agent {role_name!r} failed in {phase}: {type(cause).__name__}: {cause}")
