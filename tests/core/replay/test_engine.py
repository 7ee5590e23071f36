"""ReplayAgent on a simulated clock: records go out exactly when due (recorded offsets / speed), in
order, never early; back pressure delays, never skips; --max sends everything at once."""

from __future__ import annotations

import pytest

from core.agent import SimulatedClock
from core.journal import Record
from core.replay.engine import ReplayAgent, SendResult

T0 = 1_800_000_000_000_000_000


def _records(offsets_ns: list[int]) -> list[Record]:
    return [Record(i, T0 + off, 20, 1, 64 * i, 3, bytes([i % 256]) * 8) for i, off in enumerate(offsets_ns)]


class Collect:
    """A sink that records when each record went out, and can refuse (back pressure) or drop."""

    def __init__(self, clock: SimulatedClock, refuse: int = 0, drop: set[int] | None = None) -> None:
        self.clock = clock
        self.sent: list[tuple[int, int]] = []  # (record sequence, clock time)
        self.refuse = refuse
        self.drop = drop or set()

    def send(self, record: Record) -> SendResult:
        if self.refuse:
            self.refuse -= 1
            return SendResult.RETRY
        if record.sequence in self.drop:
            return SendResult.DROPPED
        self.sent.append((record.sequence, self.clock.time_ns()))
        return SendResult.SENT


def _run(agent: ReplayAgent, clock: SimulatedClock, step_ns: int, limit: int = 100_000) -> None:
    for _ in range(limit):
        agent.do_work()
        if agent.done:
            return
        clock.advance(step_ns)
    raise AssertionError("replay did not finish")


@pytest.mark.parametrize("speed", [1.0, 2.5, 0.5])
def test_each_record_goes_out_when_due_at_the_speed(speed):
    offsets = [0, 1_000_000, 1_000_000, 3_500_000, 10_000_000, 10_000_001]
    clock = SimulatedClock(5_000)
    sink = Collect(clock)
    agent = ReplayAgent(_records(offsets), sink, clock, speed=speed)
    _run(agent, clock, step_ns=1_000)
    assert [s for s, _ in sink.sent] == list(range(len(offsets)))
    start = sink.sent[0][1]
    for (seq, at), off in zip(sink.sent, offsets, strict=True):
        due = start + int(off / speed)
        assert due <= at < due + 1_000, (seq, at - start, due - start)  # never early, late by < one step
    assert agent.sent == len(offsets) and agent.progress().done


def test_max_sends_everything_without_waiting_in_batches():
    clock = SimulatedClock(0)
    sink = Collect(clock)
    agent = ReplayAgent(_records([i * 10**9 for i in range(1000)]), sink, clock, speed=None, batch=300)
    assert [agent.do_work() for _ in range(5)] == [300, 300, 300, 100, 0]
    assert agent.done and len(sink.sent) == 1000 and {t for _, t in sink.sent} == {0}


def test_back_pressure_delays_and_drops_are_counted_but_never_skip_or_reorder():
    clock = SimulatedClock(0)
    sink = Collect(clock, refuse=3, drop={2})
    agent = ReplayAgent(_records([0, 0, 0, 0]), sink, clock, speed=None)
    for _ in range(3):
        assert agent.do_work() == 0  # refused: the same record waits
    assert agent.do_work() == 4
    assert [s for s, _ in sink.sent] == [0, 1, 3]
    assert (agent.sent, agent.dropped, agent.retries) == (3, 1, 3)


def test_the_schedule_is_anchored_at_the_first_duty_cycle_and_next_due_is_known():
    clock = SimulatedClock(1_000)
    sink = Collect(clock)
    agent = ReplayAgent(_records([0, 2_000]), sink, clock, speed=2.0)
    clock.advance(7_000)  # nothing runs before the first do_work
    assert agent.do_work() == 1
    assert agent.next_due_ns() == 8_000 + 1_000
    clock.advance(999)
    assert agent.do_work() == 0
    clock.advance(1)
    assert agent.do_work() == 1
    assert sink.sent == [(0, 8_000), (1, 9_000)]


def test_speed_must_be_positive():
    with pytest.raises(ValueError, match="speed must be > 0"):
        ReplayAgent([], Collect(SimulatedClock()), SimulatedClock(), speed=0)
