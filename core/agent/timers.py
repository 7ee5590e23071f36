"""A deterministic timer service driven by an injected clock and polled from an agent's do_work.

    timers = TimerService(clock)
    tid = timers.schedule_in(1_000_000_000, on_timeout)   # callback(timer_id, now_ns)
    timers.cancel(tid)
    work += timers.poll()                                 # in do_work: fire what is due

Due timers fire in deadline order; equal deadlines fire in the order they were scheduled, so the same
inputs and the same clock give the same sequence of callbacks in a live run and in a replay. A poll
reads the clock once and fires only timers that were scheduled before it began: a callback that
schedules a timer already due sees it fire on the next poll, never recursively in this one.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from core.agent.clock import Clock

TimerCallback = Callable[[int, int], None]  # (timer_id, now_ns)


class TimerService:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[tuple[int, int]] = []  # (deadline_ns, timer_id); ids grow, so they break ties
        self._callbacks: dict[int, TimerCallback] = {}
        self._next_id = 1

    def schedule_at(self, deadline_ns: int, callback: TimerCallback) -> int:
        timer_id = self._next_id
        self._next_id += 1
        self._callbacks[timer_id] = callback
        heapq.heappush(self._heap, (deadline_ns, timer_id))
        return timer_id

    def schedule_in(self, delay_ns: int, callback: TimerCallback) -> int:
        if delay_ns < 0:
            raise ValueError(f"timer delay must be >= 0 ns, got {delay_ns}")
        return self.schedule_at(self.clock.time_ns() + delay_ns, callback)

    def cancel(self, timer_id: int) -> bool:
        """True if the timer was pending (it will not fire); False if it already fired or was cancelled."""
        return self._callbacks.pop(timer_id, None) is not None

    def is_scheduled(self, timer_id: int) -> bool:
        return timer_id in self._callbacks

    def __len__(self) -> int:
        return len(self._callbacks)

    def next_deadline_ns(self) -> int | None:
        """The earliest pending deadline (a backtest advances its simulated clock to it), or None."""
        self._drop_cancelled_head()
        return self._heap[0][0] if self._heap else None

    def poll(self, limit: int | None = None) -> int:
        """Fire due timers (at most `limit`); returns how many fired.

        If a callback raises, that timer counts as fired and the exception propagates to the agent's
        runner; the timers still due fire on the next poll.
        """
        now = self.clock.time_ns()
        first_new_id = self._next_id
        deferred: list[tuple[int, int]] = []
        fired = 0
        heap = self._heap
        try:
            while heap and heap[0][0] <= now and (limit is None or fired < limit):
                entry = heapq.heappop(heap)
                timer_id = entry[1]
                if timer_id >= first_new_id:
                    deferred.append(entry)  # scheduled by a callback during this poll: next poll
                    continue
                callback = self._callbacks.pop(timer_id, None)
                if callback is None:
                    continue  # cancelled
                fired += 1
                callback(timer_id, now)
        finally:
            for entry in deferred:
                heapq.heappush(heap, entry)
        return fired

    def _drop_cancelled_head(self) -> None:
        heap = self._heap
        while heap and heap[0][1] not in self._callbacks:
            heapq.heappop(heap)
