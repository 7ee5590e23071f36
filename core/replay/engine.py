"""ReplayAgent: republishes journal records at their recorded pace (scaled) or as fast as possible.

Time comes only from the injected clock. Record i is due at

    start + (receive_time[i] - receive_time[0]) / speed

where `start` is the clock's time at the first do_work; with speed None (--max) every record is due
at once. Each duty cycle sends what is due (at most `batch` records), in journal order, through the
sink, so the relative timing of the recording is preserved to within a duty cycle. A record the
sink cannot take yet (back pressure) is retried on the next cycle, never skipped; one the sink
refuses for good is counted by the sink and replay moves on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from core.agent.clock import Clock
from core.journal import Record

DEFAULT_BATCH = 256


class SendResult(Enum):
    SENT = "sent"
    RETRY = "retry"  # not now (back pressure): offer the same record again on the next cycle
    DROPPED = "dropped"  # refused for good (e.g. nobody subscribes): counted, move on


class ReplaySink(Protocol):
    def send(self, record: Record) -> SendResult: ...


@dataclass(frozen=True)
class ReplayProgress:
    sent: int
    dropped: int
    total: int | None
    recorded_ns: int  # recorded time replayed so far, from the first record
    recorded_span_ns: int | None  # the whole selection's recorded span, when known
    done: bool


class ReplayAgent:
    def __init__(
        self,
        records: Iterable[Record],
        sink: ReplaySink,
        clock: Clock,
        *,
        speed: float | None = 1.0,
        batch: int = DEFAULT_BATCH,
        total: int | None = None,
        recorded_span_ns: int | None = None,
        role_name: str = "replay",
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"replay speed must be > 0 (or None for as fast as possible), got {speed}")
        self.role_name = role_name
        self.sink = sink
        self.clock = clock
        self.speed = speed
        self.batch = batch
        self.total = total
        self.recorded_span_ns = recorded_span_ns
        self.sent = 0
        self.dropped = 0
        self.retries = 0
        self.done = False
        self._records: Iterator[Record] = iter(records)
        self._next: Record | None = None
        self._first_ns: int | None = None  # receive time of the first record
        self._start_ns = 0  # clock time the first record was due
        self._last_recorded_ns = 0

    def on_start(self) -> None:
        pass

    def do_work(self) -> int:
        if self.done:
            return 0
        work = 0
        now = self.clock.time_ns()
        while work < self.batch:
            record = self._next if self._next is not None else self._pull()
            if record is None:
                self.done = True
                return work
            if self._first_ns is None:
                self._first_ns = record.receive_time_ns
                self._start_ns = now
            offset = record.receive_time_ns - self._first_ns
            if self.speed is not None and self._start_ns + int(offset / self.speed) > now:
                self._next = record
                return work  # not due yet
            result = self.sink.send(record)
            if result is SendResult.RETRY:
                self._next = record
                self.retries += 1
                return work
            self._next = None
            self._last_recorded_ns = max(self._last_recorded_ns, offset)
            if result is SendResult.SENT:
                self.sent += 1
            else:
                self.dropped += 1
            work += 1
        return work

    def on_close(self) -> None:
        pass

    def next_due_ns(self) -> int | None:
        """Clock time the next record is due (None: unknown yet, or nothing left)."""
        if self._next is None or self._first_ns is None or self.speed is None:
            return None
        return self._start_ns + int((self._next.receive_time_ns - self._first_ns) / self.speed)

    def progress(self) -> ReplayProgress:
        return ReplayProgress(
            sent=self.sent,
            dropped=self.dropped,
            total=self.total,
            recorded_ns=self._last_recorded_ns,
            recorded_span_ns=self.recorded_span_ns,
            done=self.done,
        )

    def _pull(self) -> Record | None:
        return next(self._records, None)
