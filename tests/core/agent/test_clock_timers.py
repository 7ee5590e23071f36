"""Clocks and the deterministic timer service; an agent gives identical outputs on a simulated clock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.agent import Clock, SimulatedClock, SystemClock, TimerService
from tests.core.agent.timeouts_agent import END_NS, MS, SCENARIO, replay

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_simulated_clock_moves_only_forward():
    clock = SimulatedClock(1_000)
    assert isinstance(clock, Clock)
    assert clock.time_ns() == 1_000
    assert clock.advance(500) == 1_500
    clock.set(2_000)
    assert clock.time_ns() == 2_000
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(1_999)
    with pytest.raises(ValueError, match="negative"):
        clock.advance(-1)
    assert clock.time_ns() == 2_000


def test_system_clock_is_epoch_nanoseconds():
    assert isinstance(SystemClock(), Clock)
    assert SystemClock().time_ns() > 1_577_836_800 * 10**9  # after 2020-01-01


def test_due_timers_fire_in_deadline_order_with_ties_in_schedule_order():
    clock = SimulatedClock(0)
    timers = TimerService(clock)
    fired: list[str] = []
    for name, deadline in [("c", 30), ("a1", 10), ("b", 20), ("a2", 10), ("late", 99)]:
        timers.schedule_at(deadline, lambda tid, now, name=name: fired.append(f"{name}@{now}"))
    clock.set(30)
    assert timers.poll() == 4
    assert fired == ["a1@30", "a2@30", "b@30", "c@30"]
    assert len(timers) == 1 and timers.next_deadline_ns() == 99


def test_cancel_poll_limit_and_next_deadline():
    clock = SimulatedClock(0)
    timers = TimerService(clock)
    fired: list[int] = []
    ids = [timers.schedule_at(d, lambda tid, now: fired.append(tid)) for d in (5, 6, 7, 8)]
    assert timers.cancel(ids[0]) is True
    assert timers.cancel(ids[0]) is False
    assert timers.next_deadline_ns() == 6  # the cancelled head is skipped
    clock.set(10)
    assert timers.poll(limit=2) == 2
    assert fired == ids[1:3]
    assert timers.poll() == 1 and fired == ids[1:]
    assert timers.poll() == 0 and timers.next_deadline_ns() is None
    assert not timers.is_scheduled(ids[3])


def test_timer_scheduled_by_a_callback_fires_on_the_next_poll_not_this_one():
    clock = SimulatedClock(100)
    timers = TimerService(clock)
    fired: list[str] = []

    def reschedule(tid: int, now: int) -> None:
        fired.append("first")
        timers.schedule_at(now, lambda t, n: fired.append("second"))  # already due

    timers.schedule_at(100, reschedule)
    timers.schedule_at(100, lambda t, n: fired.append("sibling"))
    assert timers.poll() == 2
    assert fired == ["first", "sibling"]
    assert timers.poll() == 1 and fired[-1] == "second"


def test_callback_exception_propagates_and_the_other_due_timers_fire_next_poll():
    clock = SimulatedClock(0)
    timers = TimerService(clock)
    fired: list[int] = []

    def boom(tid: int, now: int) -> None:
        raise RuntimeError("timer callback failed")

    timers.schedule_at(1, boom)
    timers.schedule_at(2, lambda tid, now: fired.append(tid))
    clock.set(5)
    with pytest.raises(RuntimeError):
        timers.poll()
    assert timers.poll() == 1 and len(fired) == 1
    with pytest.raises(ValueError):
        timers.schedule_in(-1, boom)


@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.booleans()),  # (deadline, cancel it?)
        max_size=60,
    ),
    st.lists(st.integers(0, 60), max_size=10),  # clock steps
)
def test_fire_order_is_deadline_then_schedule_order_whatever_the_polling(ops, steps):
    clock = SimulatedClock(0)
    timers = TimerService(clock)
    fired: list[int] = []
    expected: list[tuple[int, int]] = []
    for deadline, cancel in ops:
        tid = timers.schedule_at(deadline, lambda t, now: fired.append(t))
        if cancel:
            timers.cancel(tid)
        else:
            expected.append((deadline, tid))
    for now in sorted(steps):
        clock.set(max(now, clock.time_ns()))
        timers.poll()
    clock.set(max(100, clock.time_ns()))
    timers.poll()
    assert fired == [tid for _, tid in sorted(expected)]


def test_agent_on_a_simulated_clock_gives_the_expected_outputs():
    # Worked by hand: A times out at 100 ms (retry) and 200 ms (give up); C (asked with B at 50 ms)
    # times out at 150 ms and 250 ms, tying with the heartbeat at 250 ms, which was scheduled first.
    assert replay(SCENARIO, 600 * MS) == [
        ("retry", "A", 100 * MS),
        ("ack", "B", 120 * MS),
        ("retry", "C", 150 * MS),
        ("gave_up", "A", 200 * MS),
        ("hb", "", 250 * MS),
        ("gave_up", "C", 250 * MS),
        ("hb", "", 500 * MS),
    ]


def test_agent_on_a_simulated_clock_is_identical_across_runs_and_processes():
    # Separate interpreters with different hash seeds: no hidden dependence on set/dict ordering.
    here = replay(SCENARIO, END_NS)
    code = "from tests.core.agent.timeouts_agent import *; print(replay(SCENARIO, END_NS))"
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    ]
    assert outputs[0] == outputs[1] == repr(here)
    assert len(here) > 40  # heartbeats over 10 s and the requests
