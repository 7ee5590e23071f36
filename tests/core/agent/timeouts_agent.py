"""A small agent in the shape of the oms, driven by a simulated clock, for determinism tests.

Kept apart from the tests so other interpreters can import it cheaply:
`python -c "from tests.core.agent.timeouts_agent import *; print(replay(SCENARIO, END_NS))"`.
"""

from __future__ import annotations

from core.agent import Clock, SimulatedClock, TimerService

MS = 1_000_000
END_NS = 10_000 * MS


class RequestTimeouts:
    """A small agent in the shape of the oms: requests time out and are retried, then given up;
    acks cancel the timeout; a heartbeat fires every 250 ms. Time comes only from its clock."""

    role_name = "request-timeouts"
    TIMEOUT_NS = 100 * MS
    HEARTBEAT_NS = 250 * MS
    MAX_ATTEMPTS = 2

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.timers = TimerService(clock)
        self.out: list[tuple[str, str, int]] = []
        self.pending: dict[str, tuple[int, int]] = {}  # name -> (timer id, attempts)

    def on_start(self) -> None:
        self.timers.schedule_in(self.HEARTBEAT_NS, self._heartbeat)

    def on_close(self) -> None: ...

    def do_work(self) -> int:
        return self.timers.poll()

    def request(self, name: str) -> None:
        self.pending[name] = (self.timers.schedule_in(self.TIMEOUT_NS, self._timeout_of(name)), 1)

    def ack(self, name: str) -> None:
        timer_id, _ = self.pending.pop(name)
        self.timers.cancel(timer_id)
        self.out.append(("ack", name, self.clock.time_ns()))

    def _timeout_of(self, name: str):
        def on_timeout(timer_id: int, now: int) -> None:
            _, attempts = self.pending[name]
            if attempts >= self.MAX_ATTEMPTS:
                del self.pending[name]
                self.out.append(("gave_up", name, now))
                return
            self.out.append(("retry", name, now))
            self.pending[name] = (self.timers.schedule_in(self.TIMEOUT_NS, on_timeout), attempts + 1)

        return on_timeout

    def _heartbeat(self, timer_id: int, now: int) -> None:
        self.out.append(("hb", "", now))
        self.timers.schedule_in(self.HEARTBEAT_NS, self._heartbeat)


def replay(inputs: list[tuple[int, str, str]], end_ns: int) -> list[tuple[str, str, int]]:
    """The backtest loop: advance the simulated clock to the next input or timer, whichever is first."""
    clock = SimulatedClock(0)
    agent = RequestTimeouts(clock)
    agent.on_start()
    queue = list(inputs)
    while True:
        next_timer = agent.timers.next_deadline_ns()
        next_input = queue[0][0] if queue else None
        candidates = [t for t in (next_timer, next_input) if t is not None and t <= end_ns]
        if not candidates:
            break
        clock.set(min(candidates))
        while agent.do_work():
            pass
        while queue and queue[0][0] == clock.time_ns():
            _, kind, name = queue.pop(0)
            agent.request(name) if kind == "req" else agent.ack(name)
    agent.on_close()
    return agent.out


SCENARIO = [(0, "req", "A"), (50 * MS, "req", "B"), (50 * MS, "req", "C"), (120 * MS, "ack", "B")]
