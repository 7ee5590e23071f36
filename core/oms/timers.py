"""Deadlines on the engine's clock, fired in (due time, order of scheduling): deterministic.

There are no threads and no wall clock: a deadline fires when an input (or a clock tick, itself an
input in the WAL) arrives with a time at or after it. Scheduling a key again replaces its deadline.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable


class TimerQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Hashable]] = []
        self._due: dict[Hashable, tuple[int, int]] = {}
        self._seq = 0

    def schedule(self, key: Hashable, due: int) -> None:
        self._seq += 1
        self._due[key] = (due, self._seq)
        heapq.heappush(self._heap, (due, self._seq, key))

    def cancel(self, key: Hashable) -> None:
        self._due.pop(key, None)

    def due_of(self, key: Hashable) -> int | None:
        entry = self._due.get(key)
        return None if entry is None else entry[0]

    def next_due(self) -> int | None:
        heap = self._heap
        while heap:
            due, seq, key = heap[0]
            if self._due.get(key) == (due, seq):
                return due
            heapq.heappop(heap)  # superseded or cancelled
        return None

    def pop_due(self, now: int) -> Hashable | None:
        """The earliest key due at or before now (removed), or None."""
        due = self.next_due()
        if due is None or due > now:
            return None
        _, _, key = heapq.heappop(self._heap)
        del self._due[key]
        return key

    def __len__(self) -> int:
        return len(self._due)
