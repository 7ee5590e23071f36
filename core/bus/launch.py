"""Start and stop a desk's media driver process (for `aerodesk up/down`, benchmarks and tests).

    driver = spawn_driver("demo")          # returns once the driver is accepting clients
    ...
    driver.stop()                          # SIGTERM, wait; SIGKILL only if it does not exit

The child is `python -m core.bus.driver`, started with this interpreter, so its pid is the driver's
(a `uv run` wrapper would leave the real driver behind if killed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from core.bus.errors import DriverStartError
from core.bus.instance import CNC_FILE, instance_dir, probe_driver, read_driver_pid, resolve_instance

_POLL_S = 0.05
_ACTIVE_TIMEOUT_MS = 5_000


@dataclass
class DriverProcess:
    instance: str
    dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    log_offset: int = 0  # where this run's part of the (appended) log starts
    start_ticks: int | None = None  # set by a caller that records it (the supervisor), to tell pid reuse

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout_s: float = 15.0) -> int:
        """SIGTERM and wait (the driver removes its directory); SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def kill(self) -> int:
        """SIGKILL: leaves a stale directory behind, as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait()

    def log_text(self) -> str:
        """What this run wrote to its log (earlier runs' lines, appended before it, are left out)."""
        if self.log_path is None:
            return ""
        try:
            with self.log_path.open("rb") as f:
                f.seek(self.log_offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def ready(self) -> bool:
        """Whether it serves clients yet, without waiting; DriverStartError (with its log) if it exited."""
        code = self.process.poll()
        if code is not None:
            detail = self.log_text().strip()
            raise DriverStartError(
                f"media driver for desk {self.instance} exited with code {code}"
                + (f":\n{detail}" if detail else " (see its stderr)")
            )
        # its pid in cnc.dat first: the activity check spins while a CnC file is being initialised
        if read_driver_pid(self.dir / CNC_FILE) != self.pid:
            return False
        probe = probe_driver(self.dir, _ACTIVE_TIMEOUT_MS)
        return probe.active and probe.pid == self.pid


def spawn_driver(
    instance: str | None = None,
    *,
    config_path: Path | None = None,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
    ready_timeout_s: float = 30.0,
    new_session: bool = True,
) -> DriverProcess:
    """Start a driver process for the instance and wait until it serves clients.

    Raises DriverStartError (with the driver's log) if it exits first, e.g. because the desk is running,
    or is not ready within `ready_timeout_s` (it is then stopped).
    """
    handle = launch_driver(
        instance, config_path=config_path, log_path=log_path, env=env, new_session=new_session
    )
    try:
        _wait_ready(handle, ready_timeout_s)
    except BaseException:
        handle.stop()
        raise
    return handle


def launch_driver(
    instance: str | None = None,
    *,
    config_path: Path | None = None,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
    new_session: bool = True,
) -> DriverProcess:
    """Start a driver process for the instance without waiting for it: `ready()` says when it serves.

    Its stderr goes to `log_path` (appended) or, without one, to this process's stderr. With
    `new_session` (the default) a Ctrl-C in the terminal does not reach the driver: whoever started it
    stops it, after the daemons that use it.
    """
    instance = resolve_instance(instance)
    cmd = [sys.executable, "-m", "core.bus.driver", "--instance", instance]
    if config_path is not None:
        cmd += ["--config", str(config_path)]
    stderr = open(log_path, "ab") if log_path is not None else None  # noqa: SIM115 (handed to the child)
    offset = stderr.seek(0, os.SEEK_END) if stderr is not None else 0
    try:
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, **(env or {})},
            start_new_session=new_session,
        )
    finally:
        if stderr is not None:
            stderr.close()
    return DriverProcess(instance, instance_dir(instance), process, log_path, offset)


def _wait_ready(handle: DriverProcess, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if handle.ready():
            return
        time.sleep(_POLL_S)
    raise DriverStartError(f"media driver for desk {handle.instance} not ready after {timeout_s:g} s")
