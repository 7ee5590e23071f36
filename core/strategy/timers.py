"""The strategy host's timers: deadlines on the injected clock, fired by `poll(now)` in (deadline, order
of scheduling) order, so the same inputs give the same callbacks live and in a backtest. A timer set by
a callback during a poll fires on a later poll, never recursively in this one. Repeating timers keep
their phase (next = deadline + interval), skipping periods already past."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

# (owner, tag, now_ns): what to run when a timer fires
Fire = Callable[[Any, str, int], None]


class HostTimers:
    def __init__(self) -> None:
        self._heap: list[tuple[int, int]] = []  # (deadline, timer id); ids grow, so they break ties
        self._timers: dict[int, tuple[Any, str, int]] = {}  # id -> (owner, tag, repeat interval)
        self._next_id = 1

    def schedule(self, owner: Any, deadline_ns: int, tag: str, interval_ns: int = 0) -> int:
        tid = self._next_id
        self._next_id += 1
        self._timers[tid] = (owner, tag, interval_ns)
        heapq.heappush(self._heap, (deadline_ns, tid))
        return tid

    def cancel(self, timer_id: int) -> bool:
        return self._timers.pop(timer_id, None) is not None

    def cancel_owner(self, owner: Any) -> int:
        ids = [tid for tid, t in self._timers.items() if t[0] is owner]
        for tid in ids:
            del self._timers[tid]
        return len(ids)

    def next_deadline(self) -> int | None:
        heap = self._heap
        while heap and heap[0][1] not in self._timers:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def poll(self, now_ns: int, fire: Fire) -> int:
        heap = self._heap
        timers = self._timers
        first_new = self._next_id
        deferred: list[tuple[int, int]] = []
        fired = 0
        try:
            while heap and heap[0][0] <= now_ns:
                deadline, tid = heapq.heappop(heap)
                if tid >= first_new:
                    deferred.append((deadline, tid))
                    continue
                entry = timers.get(tid)
                if entry is None:
                    continue  # cancelled
                owner, tag, interval = entry
                if interval:
                    nxt = deadline + interval
                    if nxt <= now_ns:
                        nxt += ((now_ns - nxt) // interval + 1) * interval
                    deferred.append((nxt, tid))  # same id: cancel_timer keeps working
                else:
                    del timers[tid]
                fired += 1
                fire(owner, tag, now_ns)
        finally:
            for entry in deferred:
                heapq.heappush(heap, entry)
        return fired

    def __len__(self) -> int:
        return len(self._timers)
