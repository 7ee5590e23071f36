"""A daemon whose start takes long (an oms replaying a long WAL) says so with Starting heartbeats: each
one gives it another startup_timeout_ms, it is up at its first Running heartbeat, and one that falls
silent while starting fails as a daemon that never came up does."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.daemons.profile import load_profile
from core.supervisor.monitor import HeartbeatInfo
from core.supervisor.runtime import instance_paths
from core.supervisor.supervisor import RUNNING, STARTING, STOPPING, DaemonSlot, Supervisor
from tests.desk import PROFILES


@pytest.fixture
def starting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Supervisor, DaemonSlot]]:
    """A supervisor whose stuck daemon is starting: a real child process stands for it."""
    monkeypatch.setenv("AERODESK_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("AERODESK_DATA", str(tmp_path / "data"))
    profile = load_profile(PROFILES / "stuck.toml")
    sup = Supervisor("unit-long-start", profile, instance_paths("unit-long-start"))
    slot = sup.slots[0]
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        slot.process, slot.pid, slot.state = proc, proc.pid, STARTING
        slot.deadline = time.monotonic() + sup._startup_s
        yield sup, slot
    finally:
        proc.kill()
        proc.wait()


def _beat(slot: DaemonSlot, state: str, at: float) -> None:
    slot.heartbeat = HeartbeatInfo(
        role=slot.name, pid=slot.pid, state=state, seq=1, ts=0, started_ts=0, strategy_id=0, received=at
    )
    slot.last_heartbeat = at


def test_starting_heartbeats_extend_the_start_up_deadline_until_running(starting) -> None:
    sup, slot = starting
    budget = sup._startup_s
    now = time.monotonic()
    for k in range(1, 6):  # five budgets long, a Starting heartbeat in each
        at = now + k * budget * 0.9
        _beat(slot, "Starting", at)
        sup._check(slot, at + budget * 0.5)
        assert slot.state == STARTING and slot.deadline == pytest.approx(at + budget), k
    _beat(slot, "Running", now + 5 * budget)
    sup._check(slot, now + 5 * budget)
    assert slot.state == RUNNING


def test_a_daemon_silent_while_starting_fails_after_the_start_up_budget(starting) -> None:
    sup, slot = starting
    budget = sup._startup_s
    at = time.monotonic() + budget * 0.9
    _beat(slot, "Starting", at)
    sup._check(slot, at + budget * 0.99)
    assert slot.state == STARTING
    sup._check(slot, at + budget * 1.01)
    assert slot.state == STOPPING and "silent while starting" in slot.error


def test_without_any_heartbeat_the_start_up_budget_is_not_extended(starting) -> None:
    sup, slot = starting
    sup._check(slot, slot.deadline + 0.01)
    assert slot.state == STOPPING and "no heartbeat within startup_timeout_ms" in slot.error
