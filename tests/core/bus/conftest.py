"""Fixtures for bus tests: a unique desk instance per test, a real media driver process, child processes.

Every process a test starts is stopped by its pid at teardown, even when the test fails, and the
instance's /dev/shm directory is removed if a killed driver left it behind.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.bus import BusConfig, DriverProcess, instance_dir, load_bus_config, spawn_driver
from core.bus.config import CONFIG_ENV

REPO_ROOT = Path(__file__).resolve().parents[3]

# Short timeouts so driver loss and stale directories resolve in about 2 s instead of 10 s.
TEST_CHANNELS = """
[driver]
driver_timeout_ms = 2000
client_liveness_timeout_ms = 2000
untethered_window_limit_timeout_ms = 300
untethered_resting_timeout_ms = 300

[streams.control]
term_length = 65536
"""


@pytest.fixture
def instance() -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield name
    d = instance_dir(name)
    if d.exists():  # a test that killed its driver leaves the directory; never leave /dev/shm dirty
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def channels_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A channels.toml with test timeouts, also seen by child processes through the environment."""
    path = tmp_path / "channels.toml"
    path.write_text(TEST_CHANNELS)
    monkeypatch.setenv(CONFIG_ENV, str(path))
    return path


@pytest.fixture
def channels_path_5s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """As channels_path with a 5 s driver timeout: room for a process to start, on a loaded machine,
    while a killed driver's heartbeat is still fresh."""
    path = tmp_path / "channels-5s.toml"
    path.write_text(TEST_CHANNELS.replace("driver_timeout_ms = 2000", "driver_timeout_ms = 5000"))
    monkeypatch.setenv(CONFIG_ENV, str(path))
    return path


@pytest.fixture
def bus_config(channels_path: Path) -> BusConfig:
    return load_bus_config(channels_path)


class Processes:
    """Child processes started by a test; all are killed by pid at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen[str]] = []
        self.drivers: list[DriverProcess] = []

    def python(self, *args: str) -> subprocess.Popen[str]:
        p = subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=open(self.tmp_path / f"proc-{len(self.started)}.log", "w"),  # noqa: SIM115
            text=True,
        )
        self.started.append(p)
        return p

    def driver(self, instance: str, channels_path: Path) -> DriverProcess:
        d = spawn_driver(
            instance, config_path=channels_path, log_path=self.tmp_path / f"driver-{len(self.drivers)}.log"
        )
        self.drivers.append(d)
        return d

    def stop_all(self) -> None:
        for p in self.started:
            if p.poll() is None:
                p.kill()
            p.wait()
            if p.stdout:
                p.stdout.close()
        for d in self.drivers:
            d.stop()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    p = Processes(tmp_path)
    try:
        yield p
    finally:
        p.stop_all()


@pytest.fixture
def driver(procs: Processes, instance: str, channels_path: Path) -> DriverProcess:
    return procs.driver(instance, channels_path)
