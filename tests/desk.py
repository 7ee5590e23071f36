"""A real desk for end-to-end tests: `aerodesk up --detach` on a unique instance, always stopped after.

    from tests.desk import desk_fixture, running_desk, PROFILES

    md_exec_desk = desk_fixture(PROFILES / "md_exec.toml")          # a module-scoped pytest fixture

    def test_something(md_exec_desk):
        code, status = md_exec_desk.status()
        bus = md_exec_desk.bus()                                     # a connected BusClient
        ...

    with running_desk(PROFILES / "md_exec.toml", tmp_dir) as desk:  # or as a context manager
        ...

The desk runs on instance `test-<uuid8>` with its logs under the given temporary directory
(AERODESK_DATA), started by the real CLI (`python -m cli.desk up --detach`) in a child process; status
and down run the CLI's code (core/supervisor/ops.py) in the test process, `cli()` runs any CLI command
as a child process. Teardown ALWAYS
runs, even when the test or the start failed: `down`, then SIGKILL for any process the desk ever
recorded that is still alive (checked by pid and start time, never by name), then removal of
/dev/shm/aerodesk-<instance> and of the instance's runtime files. A start that fails raises
DeskStartError with the CLI's output (which names the daemon and its log).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from core.bus import BusClient, instance_dir
from core.supervisor import ops, processes
from core.supervisor.monitor import HeartbeatInfo
from core.supervisor.runtime import read_runtime, recorded_processes, remove_quietly, runtime_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
PROFILES = REPO_ROOT / "tests" / "profiles"
CLI = [sys.executable, "-m", "cli.desk"]
SAFETY_TIMEOUT_S = 120.0  # a hang guard for waits, never a performance limit

T = TypeVar("T")


class DeskStartError(RuntimeError):
    pass


def new_instance() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


class Desk:
    """A desk instance under test: the CLI, its runtime file, its logs, bus clients, clean-up."""

    def __init__(self, profile: Path | str, data_dir: Path, instance: str | None = None) -> None:
        self.profile = str(profile)
        self.instance = instance or new_instance()
        self.data_dir = Path(data_dir)
        self.env = {**os.environ, "AERODESK_DATA": str(self.data_dir)}
        self.env.pop("AERODESK_INSTANCE", None)
        self._seen: dict[int, tuple[str, int | None]] = {}  # every pid the desk recorded
        self._clients: list[BusClient] = []

    # -- the CLI ----------------------------------------------------------------------------------
    def cli(self, *args: str, timeout: float = SAFETY_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        """`python -m cli.desk ARGS --instance <ours>`; never raises on a non-zero exit."""
        result = subprocess.run(
            [*CLI, *args, "--instance", self.instance],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.runtime()  # remember any pid it started
        return result

    def up(self, *extra: str) -> subprocess.CompletedProcess[str]:
        # --stop-with: a test run killed without teardown still takes its desk down with it
        return self.cli("up", "--profile", self.profile, "--detach", "--stop-with", str(os.getpid()), *extra)

    def start(self) -> Desk:
        result = self.up()
        if result.returncode != 0:
            raise DeskStartError(
                f"`aerodesk up` for {self.profile} on {self.instance} exited {result.returncode}:\n"
                f"{result.stderr}"
            )
        return self

    def down(self) -> ops.Outcome:
        """`aerodesk down`, in this process (the CLI's own code path, without a Python start-up)."""
        self.runtime()
        return ops.down(self.instance, info=lambda _m: None)

    def status(self) -> tuple[int, dict[str, Any]]:
        """(exit code, data) of `aerodesk status`, in this process."""
        outcome = ops.status(self.instance)
        return outcome.code, outcome.data

    def status_cli(self) -> tuple[int, dict[str, Any]]:
        """(exit code, the JSON printed by `aerodesk status --json`), through the real CLI."""
        result = self.cli("status", "--json")
        try:
            data = json.loads(result.stdout) if result.stdout.strip() else {}
        except ValueError:
            data = {"unparsed": result.stdout}
        return result.returncode, data

    def heartbeats(self, window_s: float = 1.0) -> dict[str, HeartbeatInfo]:
        """The latest heartbeat of every daemon heard within `window_s` (an untethered observer)."""
        expected = {d["name"]: d["pid"] for d in (self.runtime() or {}).get("daemons", [])}
        return ops.observe_heartbeats(self.instance, expected, window_s)

    # -- state ------------------------------------------------------------------------------------
    @property
    def runtime_path(self) -> Path:
        return runtime_dir() / f"{self.instance}.json"

    def runtime(self) -> dict[str, Any] | None:
        data = read_runtime(self.runtime_path)
        if data is not None:
            for _what, pid, ticks in recorded_processes(data):
                self._seen[pid] = ("", ticks)
        return data

    def daemon(self, name: str) -> dict[str, Any]:
        data = self.runtime()
        assert data is not None, f"desk {self.instance} has no runtime file"
        for d in data["daemons"]:
            if d["name"] == name:
                return d
        raise KeyError(f"desk {self.instance} has no daemon {name!r}")

    def pid(self, name: str) -> int:
        return int(self.daemon(name)["pid"])

    def log_path(self, name: str) -> Path:
        return self.data_dir / self.instance / "logs" / f"{name}.log"

    def log(self, name: str) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Signal a daemon by its recorded pid (verified by start time); returns the pid."""
        d = self.daemon(name)
        pid = int(d["pid"])
        assert processes.signal_pid(pid, sig, d.get("start_ticks")), f"{name} pid {pid} is not running"
        return pid

    def leftover_processes(self) -> list[str]:
        """Processes whose command line names this instance (`--instance <ours>`): read-only, to check
        that nothing was left behind (the instance name is unique to this test)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            for i, arg in enumerate(argv[:-1]):
                if arg == b"--instance" and argv[i + 1] == self.instance.encode():
                    if processes.alive(int(entry.name)):
                        found.append(f"pid {entry.name}: {b' '.join(argv).decode(errors='replace')}")
                    break
        return found

    def wait_for(
        self, probe: Callable[[], T], what: str, timeout: float = SAFETY_TIMEOUT_S, every: float = 0.1
    ) -> T:
        """Call `probe` until it returns something truthy; fail the test with `what` on the hang guard."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() >= deadline:
                pytest.fail(f"desk {self.instance}: timed out waiting for {what}")
            time.sleep(every)

    def bus(self) -> BusClient:
        """A BusClient connected to this desk (closed at teardown)."""
        client = BusClient(self.instance, role_name="test").connect()
        self._clients.append(client)
        return client

    # -- teardown ---------------------------------------------------------------------------------
    def stop(self) -> None:
        """Down, then kill whatever is left, then remove /dev/shm and runtime files. Never raises."""
        for client in self._clients:
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()
        with contextlib.suppress(Exception):
            self.runtime()
            self.down()
        for pid, (_what, ticks) in self._seen.items():
            if processes.alive(pid, ticks):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                processes.wait_gone(pid, ticks, 5.0)
        shm = instance_dir(self.instance)
        if shm.exists():
            shutil.rmtree(shm, ignore_errors=True)
        rt = runtime_dir()
        remove_quietly(
            rt / f"{self.instance}.json", rt / f"{self.instance}.sock", rt / f"{self.instance}.lock"
        )


@contextlib.contextmanager
def running_desk(
    profile: Path | str, data_dir: Path, *, instance: str | None = None, start: bool = True
) -> Iterator[Desk]:
    """A desk for the duration of the block; `start=False` yields it before `up` (the test starts it)."""
    desk = Desk(profile, data_dir, instance)
    try:
        if start:
            desk.start()
        yield desk
    finally:
        desk.stop()


def desk_fixture(profile: Path | str, *, scope: str = "module", start: bool = True) -> Any:
    """A pytest fixture yielding a running Desk of `profile`, shared by the tests of its scope."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def _desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
        with running_desk(profile, tmp_path_factory.mktemp("desk"), start=start) as desk:
            yield desk

    return _desk
