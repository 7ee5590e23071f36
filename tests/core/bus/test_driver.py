"""Media driver lifecycle with real driver processes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from core.bus import (
    BusClient,
    DeskNotRunning,
    DriverStartError,
    InsufficientSharedMemory,
    instance_dir,
    probe_driver,
)
from core.bus.driver import check_free_space
from tests.core.bus.conftest import REPO_ROOT, Processes


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_driver_creates_private_dir_and_removes_it_on_sigterm(procs: Processes, instance: str, channels_path):
    d = procs.driver(instance, channels_path)
    assert d.dir == Path("/dev/shm") / f"aerodesk-{instance}"
    assert _mode(d.dir) == 0o700
    assert (d.dir / "cnc.dat").exists()
    assert probe_driver(d.dir, 2000).pid == d.pid
    assert d.stop() == 0
    assert not d.dir.exists()
    assert "stopped; removed" in d.log_text()


def test_driver_stops_cleanly_on_sigint(procs: Processes, instance: str, channels_path):
    d = procs.driver(instance, channels_path)
    d.process.send_signal(signal.SIGINT)
    assert d.process.wait(15) == 0
    assert not d.dir.exists()


def test_driver_writes_nothing_to_stdout(instance: str, channels_path, tmp_path):
    p = subprocess.Popen(
        [sys.executable, "-m", "core.bus.driver", "--instance", instance, "--config", str(channels_path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not probe_driver(instance_dir(instance), 2000).active and time.monotonic() < deadline:
            assert p.poll() is None
            time.sleep(0.05)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0
    assert out == b""
    assert b"running" in err and b"stopped" in err


def test_second_driver_on_a_live_instance_refuses_and_leaves_it_alone(
    procs, instance, channels_path, tmp_path
):
    first = procs.driver(instance, channels_path)
    with pytest.raises(DriverStartError) as e:
        procs.driver(instance, channels_path)
    assert f"desk {instance} already has a running media driver (pid {first.pid})" in str(e.value)
    # The live driver and its directory are untouched: a client still connects.
    assert first.is_alive()
    with BusClient(instance) as bus:
        assert bus.is_connected


def test_stale_directory_of_a_killed_driver_is_removed(procs: Processes, instance: str, channels_path):
    first = procs.driver(instance, channels_path)
    first.kill()
    assert first.dir.exists()  # a crash leaves it behind
    deadline = time.monotonic() + 10
    while probe_driver(first.dir, 2000).active and time.monotonic() < deadline:
        time.sleep(0.1)
    second = procs.driver(instance, channels_path)
    assert "removing stale driver directory" in second.log_text()
    assert f"left by media driver pid {first.pid}" in second.log_text()
    assert probe_driver(second.dir, 2000).pid == second.pid
    assert _mode(second.dir) == 0o700


def test_restart_right_after_kill_waits_for_the_heartbeat_to_go_stale(procs, instance, channels_path_5s):
    first = procs.driver(instance, channels_path_5s)
    first.kill()
    second = procs.driver(instance, channels_path_5s)  # at once: the old heartbeat is still fresh
    log = second.log_text()
    assert f"previous media driver of desk {instance} (pid {first.pid}) exited without cleaning up" in log
    assert "waiting up to 5 s" in log
    assert probe_driver(second.dir, 2000).pid == second.pid


def test_restart_right_after_kill_can_refuse_instead_of_waiting(procs, instance, channels_path_5s):
    first = procs.driver(instance, channels_path_5s)
    first.kill()
    r = subprocess.run(
        [sys.executable, "-m", "core.bus.driver", "--instance", instance, "--no-wait-stale"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 1
    assert "heartbeat" in r.stderr and "still fresh; retry in 5 s" in r.stderr
    assert first.dir.exists()  # refused: nothing removed


def test_directory_that_is_not_a_driver_dir_is_not_removed(procs, instance, channels_path):
    d = instance_dir(instance)
    d.mkdir()
    (d / "notes.txt").write_text("not Aeron")
    with pytest.raises(DriverStartError) as e:
        procs.driver(instance, channels_path)
    assert "does not look like a media driver directory" in str(e.value)
    assert (d / "notes.txt").read_text() == "not Aeron"


def test_invalid_instance_name_is_refused(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "core.bus.driver", "--instance", "../etc"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 1
    assert "invalid desk instance name '../etc'" in r.stderr
    assert not Path("/dev/shm/aerodesk-../etc").exists()


def test_client_without_driver_fails_fast_with_a_clear_error(instance, bus_config):
    # A stuck connect would wait the Aeron driver timeout (raised here to 60 s) and trip the test timeout.
    config = replace(bus_config, driver=replace(bus_config.driver, driver_timeout_ms=60_000))
    with pytest.raises(DeskNotRunning) as e:
        BusClient(instance, config=config).connect()
    assert str(e.value) == f"desk {instance} is not running (no media driver at /dev/shm/aerodesk-{instance})"


def test_client_on_a_stale_directory_says_the_driver_is_gone(procs, instance, channels_path):
    first = procs.driver(instance, channels_path)
    first.kill()
    deadline = time.monotonic() + 10
    while probe_driver(first.dir, 2000).active and time.monotonic() < deadline:
        time.sleep(0.1)
    with pytest.raises(DeskNotRunning) as e:
        BusClient(instance).connect()
    assert f"stale directory of driver pid {first.pid}, which is gone" in str(e.value)


def test_free_space_check_says_how_much_is_needed(tmp_path):
    st = os.statvfs(tmp_path)
    free = st.f_bavail * st.f_frsize
    assert check_free_space(tmp_path, 1024) == pytest.approx(free, rel=0.01)
    with pytest.raises(InsufficientSharedMemory) as e:
        check_free_space(tmp_path, free * 4 + (1 << 30))
    assert "needs" in str(e.value) and "MiB free" in str(e.value)


def test_defaults_fit_a_small_shm(bus_config):
    # A container's default /dev/shm is 64 MiB; Aeron's defaults need 48 MB + 192 MiB per publication.
    assert bus_config.shm_needed() < 32 << 20


def test_client_right_after_a_driver_kill_fails_fast(procs: Processes, instance: str, channels_path_5s):
    first = procs.driver(instance, channels_path_5s)
    first.kill()  # the heartbeat in cnc.dat stays fresh for driver_timeout_ms
    with pytest.raises(DeskNotRunning) as e:
        BusClient(instance).connect()
    assert f"its media driver (pid {first.pid}) has exited" in str(e.value)
