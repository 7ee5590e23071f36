"""`aerodesk demo` in a real terminal (tmux): it starts a desk, the TUI shows it, the kill key asks for
confirmation and goes to the oms, and quitting (q, Ctrl-C, or the terminal closing) stops everything the
demo started: no process of the desk and no /dev/shm directory are left behind.

Each test uses its own desk instance, tmux socket (-L), runtime and data directories, and always kills
its tmux server and anything the desk recorded in a finally.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.bus import instance_dir
from core.supervisor import ops, processes
from core.supervisor.runtime import recorded_processes

REPO = Path(__file__).resolve().parents[2]
MD_EXEC = REPO / "tests" / "profiles" / "md_exec.toml"
HANG_GUARD_S = 180.0  # a guard against hangs on a loaded machine, never a performance limit
OMS_BUILT = importlib.util.find_spec("core.daemons.oms") is not None
STRATEGY_BUILT = importlib.util.find_spec("core.daemons.strategy") is not None


class Terminal:
    """`aerodesk demo` in a detached tmux session on a private socket."""

    def __init__(self, tmp: Path, profile: str | None, size: tuple[int, int] = (120, 40)) -> None:
        self.instance = f"test-demo-{uuid.uuid4().hex[:8]}"
        self.socket = f"aerodesk-{self.instance}"
        self.runtime_dir = tmp / "run"
        self.env = {
            # COLUMNS/LINES (set by pytest-xdist's workers) would override the terminal's real size.
            **{k: v for k, v in os.environ.items() if k not in ("AERODESK_INSTANCE", "COLUMNS", "LINES")},
            "AERODESK_DATA": str(tmp / "data"),
            "AERODESK_RUNTIME_DIR": str(self.runtime_dir),
            "TERM": "xterm-256color",
        }
        args = [sys.executable, "-m", "cli.demo", "--instance", self.instance]
        if profile is not None:
            args += ["--profile", profile]
        demo = " ".join(shlex.quote(a) for a in args)
        # The shell stays after the demo so its exit code and last words can be read.
        shell = f"cd {shlex.quote(str(REPO))} && {demo}; echo DEMO-EXIT=$?; sleep 600"
        self.tmux("new-session", "-d", "-x", str(size[0]), "-y", str(size[1]), shell)
        self.seen: dict[int, int | None] = {}

    def tmux(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True, timeout=30
        )
        return out.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def wait(self, probe: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + HANG_GUARD_S
        while True:
            text = self.screen()
            if probe(text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; the terminal shows:\n{text}")
            time.sleep(0.2)

    def runtime(self) -> dict | None:
        path = self.runtime_dir / f"{self.instance}.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        for _what, pid, ticks in recorded_processes(data):
            self.seen[pid] = ticks
        return data

    def alive(self) -> list[int]:
        return [pid for pid, ticks in self.seen.items() if processes.alive(pid, ticks)]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.tmux("kill-server")
        old = os.environ.get("AERODESK_RUNTIME_DIR")
        os.environ["AERODESK_RUNTIME_DIR"] = str(self.runtime_dir)
        try:
            with contextlib.suppress(Exception):
                ops.down(self.instance, info=lambda _m: None)
        finally:
            if old is None:
                os.environ.pop("AERODESK_RUNTIME_DIR", None)
            else:
                os.environ["AERODESK_RUNTIME_DIR"] = old
        for pid, ticks in self.seen.items():
            if processes.alive(pid, ticks):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        shm = instance_dir(self.instance)
        if shm.exists():
            subprocess.run(["rm", "-rf", str(shm)], check=False)


@contextlib.contextmanager
def demo_terminal(tmp: Path, profile: str | None) -> Iterator[Terminal]:
    if subprocess.run(["which", "tmux"], capture_output=True).returncode != 0:
        pytest.skip("tmux is not installed")
    term = Terminal(tmp, profile)
    try:
        yield term
    finally:
        term.close()


def desk_is_up(term: Terminal) -> str:
    text = term.wait(lambda s: "BTC-USD" in s and "LIVE" in s, "the TUI to show a live desk")
    data = term.runtime()
    assert data is not None, "the desk's runtime file is missing"
    assert term.seen, "the runtime file lists no process"
    assert instance_dir(term.instance).exists()
    return text


def everything_stopped(term: Terminal, exit_code: str | None = "0") -> None:
    if exit_code is not None:
        term.wait(lambda s: f"DEMO-EXIT={exit_code}" in s, f"the demo to exit with {exit_code}")
    deadline = time.monotonic() + HANG_GUARD_S
    while term.alive() or instance_dir(term.instance).exists():
        if time.monotonic() > deadline:
            pytest.fail(f"left behind: pids {term.alive()}, shm {instance_dir(term.instance).exists()}")
        time.sleep(0.2)
    assert not (term.runtime_dir / f"{term.instance}.json").exists()


def test_demo_shows_the_desk_sends_the_kill_and_quitting_stops_everything(tmp_path: Path) -> None:
    with demo_terminal(tmp_path, str(MD_EXEC)) as term:
        desk_is_up(term)
        panes = ("Book", "Positions & PnL", "Risk", "Working orders", "Recent fills", "Desk health")
        # The first frames may still be laying out on a loaded machine: wait for every pane.
        term.wait(lambda s: all(pane in s for pane in panes), f"every pane ({', '.join(panes)})")
        term.keys("k")
        term.wait(lambda s: "ENGAGE THE KILL SWITCH?" in s, "the kill confirmation")
        term.keys("Enter")
        # This desk has no oms: the TUI must say the kill did not reach one, never pretend it engaged.
        text = term.wait(lambda s: "engage kill switch: failed" in s or "unanswered" in s, "the kill outcome")
        assert "KILL ENGAGED" not in text and "kill ?" in text
        term.keys("q")
        everything_stopped(term)


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    with demo_terminal(tmp_path, str(MD_EXEC)) as term:
        desk_is_up(term)
        term.keys("C-c")
        everything_stopped(term)


def test_closing_the_terminal_stops_everything(tmp_path: Path) -> None:
    with demo_terminal(tmp_path, str(MD_EXEC)) as term:
        desk_is_up(term)
        term.tmux("kill-server")  # the terminal goes away: SIGHUP to the demo
        everything_stopped(term, exit_code=None)


def test_an_already_running_desk_is_attached_and_left_running(tmp_path: Path) -> None:
    with demo_terminal(tmp_path, str(MD_EXEC)) as first:
        desk_is_up(first)
        second = Terminal(tmp_path, str(MD_EXEC))
        try:
            second.tmux("kill-server")
            second.instance, second.socket = first.instance, first.socket + "-2"
            second.runtime_dir = first.runtime_dir
            cmd = (
                f"cd {shlex.quote(str(REPO))} && {shlex.quote(sys.executable)} -m cli.demo --instance "
                f"{first.instance}; echo DEMO-EXIT=$?; sleep 600"
            )
            second.tmux("new-session", "-d", "-x", "120", "-y", "40", cmd)
            second.wait(lambda s: "already running" in s or "LIVE" in s, "the second demo to attach")
            second.wait(lambda s: "LIVE" in s and "BTC-USD" in s, "the second TUI")
            second.keys("q")
            text = second.wait(lambda s: "DEMO-EXIT=0" in s, "the second demo to exit")
            assert "already running: attaching" in text and "stopping the demo desk" not in text
            assert not first.alive() or all(processes.alive(p, t) for p, t in first.seen.items())
            assert all(processes.alive(p, t) for p, t in first.seen.items()), "the attached desk was stopped"
        finally:
            with contextlib.suppress(Exception):
                second.tmux("kill-server")
        first.keys("q")
        everything_stopped(first)


@pytest.mark.skipif(
    not (OMS_BUILT and STRATEGY_BUILT), reason="the demo profile needs the oms and strategy daemons"
)
def test_the_demo_profile_engages_the_kill_switch_in_the_oms(tmp_path: Path) -> None:
    with demo_terminal(tmp_path, None) as term:  # the real default: the demo profile
        desk_is_up(term)
        term.keys("k")
        term.wait(lambda s: "ENGAGE THE KILL SWITCH?" in s, "the kill confirmation")
        term.keys("Enter")
        text = term.wait(lambda s: "KILL ENGAGED" in s, "the kill switch engaged by the oms")
        assert "KILL SWITCH ENGAGED" in text
        term.keys("q")
        everything_stopped(term)
