"""Runtime files, the instance lock and processes by pid, with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.supervisor import processes
from core.supervisor.ops import clean_stale
from core.supervisor.runtime import (
    RUNTIME_ENV,
    RuntimeDirError,
    instance_paths,
    lock_held,
    read_runtime,
    recorded_processes,
    runtime_dir,
    write_runtime,
)

IGNORE_TERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(600)"
)
HOLD_LOCK = (
    "import sys, time; from pathlib import Path; from core.supervisor.runtime import InstanceLock; "
    "assert InstanceLock(Path(sys.argv[1])).acquire(); print('locked', flush=True); time.sleep(600)"
)


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "run"
    monkeypatch.setenv(RUNTIME_ENV, str(d))
    return d


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait()


def spawn(children: list, code: str, *args: str) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    children.append(p)
    assert p.stdout is not None
    p.stdout.readline()  # wait until it is ready
    return p


# -- runtime directory and file -------------------------------------------------------------------
def test_runtime_dir_is_private(runtime: Path) -> None:
    d = runtime_dir()
    assert d == runtime and d.is_dir()
    assert d.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to hand a directory to another user")
def test_a_runtime_dir_of_another_user_is_refused(runtime: Path) -> None:
    runtime.mkdir(mode=0o700)
    os.chown(runtime, 12345, 12345)
    with pytest.raises(RuntimeDirError, match="belongs to uid 12345"):
        runtime_dir()


def test_runtime_file_round_trips_and_is_replaced_atomically(runtime: Path) -> None:
    paths = instance_paths("unit")
    assert read_runtime(paths.runtime) is None
    write_runtime(paths.runtime, {"instance": "unit", "state": "starting"})
    write_runtime(paths.runtime, {"instance": "unit", "state": "running"})
    data = read_runtime(paths.runtime)
    assert data is not None and data["state"] == "running" and data["version"] == 1 and data["updated_ns"] > 0
    assert sorted(p.name for p in runtime.iterdir()) == ["unit.json"]  # no temporary file left
    assert paths.runtime.stat().st_mode & 0o777 == 0o600


def test_unreadable_runtime_files_count_as_absent(runtime: Path) -> None:
    paths = instance_paths("unit")
    paths.runtime.write_text('{"version": 1, "state": "run')  # torn
    assert read_runtime(paths.runtime) is None
    paths.runtime.write_text('{"version": 99}')  # a future format
    assert read_runtime(paths.runtime) is None


def test_recorded_processes_come_in_stop_order() -> None:
    data = {
        "supervisor": {"pid": 10, "start_ticks": 1},
        "daemons": [
            {"name": "oms", "pid": 11, "start_ticks": 2},
            {"name": "md", "pid": 12},
            {"name": "x", "pid": 0},
        ],
        "driver": {"pid": 13, "start_ticks": 4},
    }
    assert recorded_processes(data) == [
        ("supervisor", 10, 1),
        ("daemon md", 12, None),
        ("daemon oms", 11, 2),
        ("media driver", 13, 4),
    ]


# -- the lock -------------------------------------------------------------------------------------------
def test_the_lock_is_released_when_its_holder_dies_however_it_dies(runtime: Path, children: list) -> None:
    lock = instance_paths("unit").lock
    assert not lock_held(lock)
    holder = spawn(children, HOLD_LOCK, str(lock))
    assert lock_held(lock)
    holder.kill()  # no clean-up code runs
    holder.wait()
    assert not lock_held(lock)


# -- processes by pid -------------------------------------------------------------------------------
def test_a_pid_is_ours_only_with_its_start_time(children: list) -> None:
    p = spawn(children, IGNORE_TERM)
    ticks = processes.start_ticks(p.pid)
    assert ticks is not None
    assert processes.alive(p.pid, ticks)
    assert not processes.alive(p.pid, ticks + 1)  # a reused pid: someone else's process
    assert not processes.signal_pid(p.pid, signal.SIGKILL, ticks + 1)
    assert p.poll() is None


def test_stop_escalates_to_sigkill_for_a_process_that_ignores_sigterm(children: list) -> None:
    p = spawn(children, IGNORE_TERM)
    ticks = processes.start_ticks(p.pid)
    assert processes.stop_pid(p.pid, ticks, 0.3) == "killed"
    assert p.wait(10) == -signal.SIGKILL
    assert processes.stop_pid(p.pid, ticks, 0.3) == "gone"


def test_stop_waits_for_a_process_that_exits_on_sigterm(children: list) -> None:
    p = spawn(children, "import time; print('ready', flush=True); time.sleep(600)")
    assert processes.stop_pid(p.pid, processes.start_ticks(p.pid), 30) == "stopped"
    assert p.wait(10) == -signal.SIGTERM


def test_a_stale_runtime_file_is_cleaned_and_its_live_processes_stopped(
    runtime: Path, children: list
) -> None:
    paths = instance_paths("unit")
    orphan = spawn(children, "import time; print('ready', flush=True); time.sleep(600)")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    write_runtime(
        paths.runtime,
        {
            "stop_timeout_ms": 5000,
            "supervisor": {"pid": dead.pid, "start_ticks": None},
            "daemons": [{"name": "md", "pid": orphan.pid, "start_ticks": processes.start_ticks(orphan.pid)}],
            "driver": {},
        },
    )
    message = clean_stale(paths)
    assert (
        f"supervisor pid {dead.pid} is gone" in message
        and f"daemon md (pid {orphan.pid}, stopped)" in message
    )
    assert orphan.wait(10) == -signal.SIGTERM
    assert read_runtime(paths.runtime) is None


def test_a_runtime_file_with_a_live_supervisor_is_not_stale(runtime: Path, children: list) -> None:
    paths = instance_paths("unit")
    spawn(children, HOLD_LOCK, str(paths.lock))
    write_runtime(paths.runtime, {"supervisor": {"pid": os.getpid()}, "daemons": []})
    assert clean_stale(paths) == ""
    assert read_runtime(paths.runtime) is not None
