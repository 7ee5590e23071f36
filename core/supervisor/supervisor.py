"""The Supervisor of one desk instance: its media driver and its daemons, as child processes.

Start: take the instance lock, start the media driver (spawn_driver), then each daemon of the profile
in profile order (`python -m core.daemons run NAME --instance I --profile P`, this interpreter, stdout
and stderr appended to <logs>/NAME.log, a session of its own so a terminal's Ctrl-C reaches only the
supervisor, which stops the daemons in order). Each daemon must send its first heartbeat within
startup_timeout_ms before the next one starts. The desk is up when all have.

A daemon whose start takes long (an oms replaying a long WAL) sends heartbeats with state Starting
meanwhile: each one extends its start-up deadline by startup_timeout_ms; it counts as up at its first
Running heartbeat.

Watch (one loop, ~20 ms period, sleeping in between): heartbeats from an untethered observer of the
heartbeats stream (only those from the pid it started count), child exits (Popen.poll), the driver.
A daemon that exits, or stays silent for heartbeat_timeout_ms (it is then stopped: SIGTERM, SIGKILL
after stop_timeout_ms), is restarted after a back-off (restart_backoff_ms, doubling per failure up to
restart_backoff_max_ms) when its restart policy is "on-failure". max_restarts failures within
restart_window_ms mark it failed: reported, left down, never looped. Exit code 2 (its configuration is
wrong, or its kind is not built) fails it at once: a restart cannot fix that. During start-up a failed
daemon fails the whole start: what was started is stopped and the error names the daemon and its log.
A driver that dies is started again (daemons reconnect by themselves) without blocking the loop: until
the new one serves, requests are answered, heartbeat silence does not count and launches wait.
Time the supervisor itself did not run (stopped, a paused VM, starved of CPU: a loop iteration STALL_S
or more after the previous one) is not counted as any daemon's silence beyond STALL_S per gap, so a
starved supervisor still sees a daemon that hung.

Owner: with `stop_with` (`aerodesk up --stop-with PID`) the desk stops by itself once that process is
gone, however it ended (a test run killed by a timeout, a TUI that crashed).

Control: `aerodesk restart DAEMON` arrives on the control socket (control.py); the answer is sent once
the daemon is running again (or failed). SIGTERM, SIGINT or SIGHUP stop the desk; a second one
hurries the stop (SIGKILL instead of waiting).

Stop: daemons in reverse profile order, one at a time (SIGTERM by pid, wait stop_timeout_ms so it
flushes and closes, then SIGKILL), then the driver (which removes its /dev/shm directory), then the
runtime file, control socket and lock.

Every state change rewrites the runtime file (runtime.py) atomically.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from core.bus.client import BusClient
from core.bus.config import load_bus_config
from core.bus.errors import BusError, DeskNotRunning, DriverStartError
from core.bus.instance import instance_dir
from core.bus.launch import DriverProcess, launch_driver, spawn_driver
from core.daemons.profile import DaemonSpec, Profile
from core.supervisor import processes
from core.supervisor.control import ControlServer, Pending
from core.supervisor.monitor import HeartbeatInfo, HeartbeatMonitor
from core.supervisor.runtime import InstanceLock, InstancePaths, remove_quietly, write_runtime

log = logging.getLogger("aerodesk.supervisor")

TICK_S = 0.02
# A loop iteration that comes this long after the previous one means this process did not run meanwhile
# (stopped, a paused VM, starved of CPU): that time, less STALL_S, is not counted as the daemons' silence.
STALL_S = 0.5
DRIVER_READY_S = 30.0  # for a replacement driver to serve, after driver_timeout_ms (its stale wait)
DRIVER_RETRY_S = 1.0
DRIVER_RETRY_MAX_S = 30.0
OWNER_CHECK_S = 0.5
EXIT_CONFIG = 2  # core.daemons exit code: configuration or usage error, kind not built
LOG_TAIL_LINES = 12


class SupervisorError(RuntimeError):
    """The desk could not be started (or is already running); the message says why and where to look."""

    def __init__(self, message: str, daemon: str = "", log_path: Path | None = None) -> None:
        super().__init__(message)
        self.daemon = daemon
        self.log_path = log_path


# Daemon states (runtime file and status):
PENDING, STARTING, RUNNING, STOPPING, BACKOFF, FAILED, STOPPED = (
    "pending",
    "starting",
    "running",
    "stopping",
    "backoff",
    "failed",
    "stopped",
)


@dataclass
class DaemonSlot:
    spec: DaemonSpec
    log_path: Path
    state: str = PENDING
    process: subprocess.Popen[bytes] | None = None
    pid: int = 0
    start_ticks: int | None = None
    started_ns: int = 0
    launches: int = 0
    restarts: int = 0
    last_exit: int | None = None
    error: str = ""
    deadline: float = 0.0  # starting: startup deadline; backoff: restart time; stopping: SIGKILL time
    backoff_s: float = 0.0  # the delay before the next launch after a failure
    after_stop: str = STOPPED  # what a stop leads to: STOPPED, BACKOFF/FAILED (failure) or STARTING
    last_heartbeat: float | None = None  # monotonic arrival of the current process's latest heartbeat
    heartbeat: HeartbeatInfo | None = None
    failures: deque[float] = field(default_factory=deque)
    waiters: list[Pending] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name


class Supervisor:
    def __init__(
        self,
        instance: str,
        profile: Profile,
        paths: InstancePaths,
        *,
        channels_config: Path | None = None,
        supervisor_log: Path | None = None,
        stop_with: int | None = None,
    ) -> None:
        self.instance = instance
        self.profile = profile
        self.paths = paths
        self.channels_config = channels_config
        self.supervisor_log = supervisor_log
        self.slots = [DaemonSlot(spec, paths.log(spec.name)) for spec in profile.daemons]
        # The desk's owner, when it lives only as long as some process (a test, the demo's TUI).
        self.stop_with = stop_with
        self._stop_with_ticks = processes.start_ticks(stop_with) if stop_with else None
        self._next_owner_check = 0.0
        self.state = "starting"
        self.error = ""
        self.started_ns = time.time_ns()
        self.driver: DriverProcess | None = None
        # A replacement for a driver that died, started but not serving yet: the loop goes on meanwhile
        self._driver_starting: DriverProcess | None = None
        self._driver_down = False  # the driver died and no replacement serves yet
        self._driver_deadline = 0.0  # for it to serve; then it is killed and another one tried
        self._driver_ready_s = DRIVER_READY_S
        self._driver_retry_at = 0.0
        self._driver_retries = 0  # failed replacements in a row: the back-off doubles with each
        self.bus: BusClient | None = None
        self.monitor: HeartbeatMonitor | None = None
        self.control: ControlServer | None = None
        self._lock = InstanceLock(paths.lock)
        self._owner = False  # holds the instance lock: the runtime files are ours to write and remove
        self._stop_requested = False
        self._hurry = False
        self._dirty = True
        self._startup_index = 0
        self._interval_s = profile.heartbeat_interval_ms / 1000
        self._timeout_s = profile.heartbeat_timeout_ms / 1000
        self._startup_s = profile.startup_timeout_ms / 1000
        self._stop_s = profile.stop_timeout_ms / 1000
        self._last_tick: float | None = None

    # == the whole life ==========================================================================
    def run(self, on_ready: Callable[[dict[str, Any]], None] | None = None) -> int:
        """Start, report (on_ready gets {"ok": ..., ...}), supervise until a stop signal, stop.

        Returns 0 after a clean run and stop, 1 when the start failed (on_ready says why)."""
        previous = self._install_signals()
        try:
            try:
                self.start()
            except SupervisorError as e:
                self.error = str(e)
                self.state = "failed"
                log.error("%s", e)
                if on_ready is not None:
                    on_ready(self._result(False, e))
                return 1
            if on_ready is not None:
                on_ready(self._result(True))
            self.supervise()
            return 0
        finally:
            self.shutdown()
            self._restore_signals(previous)

    def start(self) -> None:
        """Everything up, in profile order; SupervisorError (with the laggard's name) if not."""
        if not self._lock.acquire():
            raise SupervisorError(f"desk {self.instance} is already running (lock {self.paths.lock} is held)")
        self._owner = True
        self._write()
        self.paths.log_dir.mkdir(parents=True, exist_ok=True)
        self._start_driver()
        self.bus = BusClient(self.instance, role_name="supervisor")
        self.monitor = HeartbeatMonitor(self.bus, on_heartbeat=self._on_heartbeat)
        try:
            self.bus.connect()
        except DeskNotRunning as e:
            raise SupervisorError(str(e)) from None
        self.control = ControlServer(self.paths.socket)
        log.info(
            "desk %s: starting %d daemons of profile %s (%s)",
            self.instance,
            len(self.slots),
            self.profile.name,
            self.profile.path,
        )
        while self._startup_index < len(self.slots):
            if self._stop_requested:
                raise SupervisorError(f"desk {self.instance}: start interrupted")
            slot = self.slots[self._startup_index]
            if slot.state == PENDING:
                self._launch(slot)
            elif slot.state == RUNNING:
                self._startup_index += 1
                continue
            elif slot.state == FAILED:
                raise SupervisorError(self._startup_failure(slot), slot.name, slot.log_path)
            self._tick()
        self.state = "running"
        self._dirty = True
        self._write()
        log.info("desk %s is up: %s", self.instance, ", ".join(f"{s.name} pid {s.pid}" for s in self.slots))

    def supervise(self) -> None:
        while not self._stop_requested:
            self._tick()

    def shutdown(self) -> None:
        """Stop every daemon (reverse order), then the driver; remove the runtime file. Idempotent."""
        if self.state == "stopped" or not self._owner:
            return
        if self.state != "failed":
            self.state = "stopping"
        self._dirty = True
        self._write()
        for slot in reversed(self.slots):
            self._stop_now(slot)
            for w in slot.waiters:
                w.reply({"ok": False, "error": f"desk {self.instance} is stopping", "code": 1})
            slot.waiters.clear()
        if self.control is not None:
            for pending in self.control.accept():
                pending.reply({"ok": False, "error": f"desk {self.instance} is stopping", "code": 1})
            self.control.close()
        if self.bus is not None:
            self.bus.close()
        if self._driver_starting is not None:
            self._driver_starting.stop(timeout_s=0.5 if self._hurry else self._stop_s)
        if self.driver is not None:
            self.driver.stop(timeout_s=0.5 if self._hurry else self._stop_s)
            log.info("desk %s: media driver stopped", self.instance)
        remove_quietly(self.paths.runtime)
        self._lock.release()
        self.state = "stopped"
        log.info("desk %s stopped", self.instance)

    def request_stop(self) -> None:
        if self._stop_requested:
            self._hurry = True
        self._stop_requested = True

    # == one loop iteration ======================================================================
    def _tick(self) -> None:
        assert self.bus is not None and self.monitor is not None
        work = self.bus.do_work() + self.monitor.poll()
        now = time.monotonic()
        self._discount_stall(now)
        self._check_owner(now)
        self._check_driver(now)
        for slot in self.slots:
            self._check(slot, now)
        if self.control is not None:
            for pending in self.control.accept():
                self._on_request(pending)
                work += 1
        self._write()
        if not work:
            time.sleep(TICK_S)

    def _discount_stall(self, now: float) -> None:
        """Time this process did not run is nobody's silence: the heartbeats sent meanwhile were not
        read (an untethered observer that far behind is even dropped, and rejoins a moment later). So a
        stall moves every heartbeat and start-up clock on by its length; without it, a supervisor that
        was stopped for longer than heartbeat_timeout_ms restarted every healthy daemon as it woke.
        The first STALL_S of each gap still counts: a supervisor starved into one loop every STALL_S or
        more would otherwise discount all its time and never see a daemon that hung meanwhile."""
        last, self._last_tick = self._last_tick, now
        if last is None or now - last < STALL_S:
            return
        gap = now - last - STALL_S
        log.warning(
            "supervisor: did not run for %.1f s (stopped or starved of CPU); heartbeat silence and "
            "start-up deadlines count only %.1f s of it",
            now - last,
            STALL_S,
        )
        for slot in self.slots:
            heard = slot.last_heartbeat
            if heard is not None and heard < last:  # one read after the stall (this poll) is current
                slot.last_heartbeat = min(heard + gap, now)
            if slot.state == STARTING:
                slot.deadline += gap

    def _check(self, slot: DaemonSlot, now: float) -> None:
        proc = slot.process
        if proc is not None and proc.poll() is not None:
            slot.process = None
            slot.last_exit = proc.returncode
            self._dirty = True
            if slot.state == STOPPING:
                self._stopped(slot, now)
            else:
                self._failure(slot, now, _exit_text(proc.returncode), proc.returncode)
            return
        state = slot.state
        if state == STARTING:
            hb, last = slot.heartbeat, slot.last_heartbeat
            if last is not None and hb is not None and hb.state != "Starting":
                self._set(slot, RUNNING)
                log.info("%s: running (pid %d)", slot.name, slot.pid)
                self._answer(slot, {"ok": True, "message": f"{slot.name} running", "pid": slot.pid})
            else:
                if last is not None:
                    # a long start saying it is under way (an oms replaying its WAL): each Starting
                    # heartbeat gives it another startup_timeout_ms; it is running once it says so
                    slot.deadline = max(slot.deadline, last + self._startup_s)
                if now >= slot.deadline and not self._driver_down:
                    budget = f"startup_timeout_ms ({self.profile.startup_timeout_ms} ms)"
                    self._failure(
                        slot,
                        now,
                        f"no heartbeat within {budget}"
                        if last is None
                        else f"silent while starting: no heartbeat within {budget} of its last Starting one",
                    )
        elif state == RUNNING and not self._driver_down:  # no driver: no heartbeats, and no fault of theirs
            last = slot.last_heartbeat or now
            if now - last > self._timeout_s:
                self._failure(
                    slot,
                    now,
                    f"silent for {now - last:.1f} s (heartbeat_timeout_ms {self._timeout_s * 1000:.0f})",
                )
        elif state == BACKOFF:
            if now >= slot.deadline and not self._driver_down:
                self._launch(slot)
        elif state == STOPPING and proc is not None and now >= slot.deadline:
            log.warning("%s: pid %d did not stop within %.1f s: SIGKILL", slot.name, slot.pid, self._stop_s)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            slot.deadline = now + 3600  # killed: wait for the exit

    # == transitions =============================================================================
    def _launch(self, slot: DaemonSlot) -> None:
        if self._driver_down:  # it could not connect: start it once the new driver serves
            log.info("%s: waits for the media driver before it starts", slot.name)
            slot.deadline = time.monotonic()
            self._set(slot, BACKOFF)
            return
        cmd = [
            sys.executable,
            "-m",
            "core.daemons",
            "run",
            slot.name,
            "--instance",
            self.instance,
            "--profile",
            str(self.profile.path),
        ]
        if slot.launches:
            slot.restarts += 1
        slot.launches += 1
        logfile = open_log(slot.log_path, f"starting {slot.name} (launch {slot.launches})")
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=logfile,
                start_new_session=True,  # the supervisor alone decides when and in which order it stops
                env=self._child_env(),
            )
        except OSError as e:
            logfile.close()
            self._failure(slot, time.monotonic(), f"could not start: {e}")
            return
        logfile.close()
        slot.process = proc
        slot.pid = proc.pid
        slot.start_ticks = processes.start_ticks(proc.pid)
        slot.started_ns = time.time_ns()
        slot.last_heartbeat = None
        slot.heartbeat = None
        slot.deadline = time.monotonic() + self._startup_s
        self._set(slot, STARTING)
        log.info("%s: started pid %d (log %s)", slot.name, proc.pid, slot.log_path)

    def _failure(self, slot: DaemonSlot, now: float, reason: str, exit_code: int | None = None) -> None:
        """The daemon failed (exited, silent or never up): restart it later, or give it up."""
        slot.error = reason
        window = self.profile.restart_window_ms / 1000
        counted = not self._driver_down  # without a driver no daemon can run: that is not its failure
        if counted:
            slot.failures.append(now)
        while slot.failures and now - slot.failures[0] > window:
            slot.failures.popleft()
        n = len(slot.failures)
        if exit_code == EXIT_CONFIG:
            verdict, detail = FAILED, "configuration error (exit code 2): a restart cannot fix it"
        elif slot.spec.restart == "never":
            verdict, detail = FAILED, 'restart = "never"'
        elif n >= self.profile.max_restarts:
            verdict, detail = FAILED, f"{n} failures within {window:g} s: giving up"
        else:
            verdict = BACKOFF
            delay_ms = min(
                self.profile.restart_backoff_ms * 2 ** max(n - 1, 0), self.profile.restart_backoff_max_ms
            )
            slot.backoff_s = delay_ms / 1000
            slot.deadline = now + slot.backoff_s
            count = (
                f"failure {n} of {self.profile.max_restarts}" if counted else "not counted: no media driver"
            )
            detail = f"restarting in {delay_ms / 1000:g} s ({count})"
        if verdict == FAILED:
            slot.error = f"{reason}; {detail}"
            log.error("%s: %s; %s; see %s", slot.name, reason, detail, slot.log_path)
        else:
            log.warning("%s: %s; %s", slot.name, reason, detail)
        if slot.process is not None:  # still there (silent or never up): stop it first
            slot.after_stop = verdict
            self._begin_stop(slot, now)
            return
        self._set(slot, verdict)
        if verdict == FAILED:
            self._answer(slot, {"ok": False, "error": f"{slot.name} failed: {slot.error}", "code": 1})

    def _begin_stop(self, slot: DaemonSlot, now: float) -> None:
        proc = slot.process
        if proc is None:
            self._stopped(slot, now)
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        slot.deadline = now + self._stop_s
        self._set(slot, STOPPING)

    def _stopped(self, slot: DaemonSlot, now: float) -> None:
        after, slot.after_stop = slot.after_stop, STOPPED
        if after == STARTING:
            self._launch(slot)
        elif after == BACKOFF:
            slot.deadline = now + slot.backoff_s  # the back-off runs from the exit
            self._set(slot, BACKOFF)
        else:
            self._set(slot, after)
            if after == FAILED:
                self._answer(slot, {"ok": False, "error": f"{slot.name} failed: {slot.error}", "code": 1})

    def _stop_now(self, slot: DaemonSlot) -> None:
        """Stop synchronously (desk shutdown): SIGTERM, wait, SIGKILL."""
        proc = slot.process
        if proc is None:
            if slot.state not in (FAILED, PENDING):
                self._set(slot, STOPPED)
            return
        if proc.poll() is None:
            log.info("%s: stopping pid %d", slot.name, slot.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(0.5 if self._hurry else self._stop_s)
            except subprocess.TimeoutExpired:
                log.warning(
                    "%s: pid %d did not stop within %.1f s: SIGKILL", slot.name, slot.pid, self._stop_s
                )
                proc.kill()
                proc.wait()
        slot.last_exit = proc.returncode
        slot.process = None
        self._set(slot, STOPPED)
        self._write()

    def _set(self, slot: DaemonSlot, state: str) -> None:
        if slot.state != state:
            slot.state = state
            self._dirty = True

    def _answer(self, slot: DaemonSlot, answer: dict[str, Any]) -> None:
        if slot.waiters:
            self._write()  # whoever asked reads the runtime file next: it must say what we answer
        for w in slot.waiters:
            w.reply(answer)
        slot.waiters.clear()

    # == inputs ==================================================================================
    def _on_heartbeat(self, hb: HeartbeatInfo) -> None:
        for slot in self.slots:
            if slot.name == hb.role:
                if slot.pid and hb.pid == slot.pid and slot.process is not None:
                    slot.last_heartbeat = hb.received
                    slot.heartbeat = hb
                return

    def _on_request(self, pending: Pending) -> None:
        cmd = pending.request.get("cmd")
        if cmd == "ping":
            pending.reply({"ok": True, "state": self.state, "pid": os.getpid()})
            return
        if cmd != "restart":
            pending.reply({"ok": False, "error": f"unknown command {cmd!r}", "code": 2})
            return
        name = pending.request.get("daemon")
        slot = next((s for s in self.slots if s.name == name), None)
        if slot is None:
            known = ", ".join(s.name for s in self.slots)
            pending.reply(
                {"ok": False, "error": f"no daemon {name!r} in this desk (its daemons: {known})", "code": 2}
            )
            return
        if self.state != "running":
            pending.reply({"ok": False, "error": f"desk {self.instance} is {self.state}", "code": 1})
            return
        log.info("%s: restart requested", slot.name)
        slot.failures.clear()  # an operator's restart starts a fresh budget
        slot.error = ""
        slot.waiters.append(pending)
        if slot.process is not None:
            slot.after_stop = STARTING
            if slot.state != STOPPING:
                self._begin_stop(slot, time.monotonic())
        else:
            self._launch(slot)

    def _check_owner(self, now: float) -> None:
        if not self.stop_with or now < self._next_owner_check:
            return
        self._next_owner_check = now + OWNER_CHECK_S
        if not processes.alive(self.stop_with, self._stop_with_ticks) and not self._stop_requested:
            log.warning("desk %s: its owner, pid %d, is gone: stopping", self.instance, self.stop_with)
            self.request_stop()

    def _check_driver(self, now: float) -> None:
        """Replace a driver that died, without blocking the loop: a new one waits (up to
        driver_timeout_ms) for the dead one's heartbeat to go stale before it serves, and meanwhile
        control requests are answered, exits seen and stop signals obeyed."""
        if self._stop_requested:
            return
        if self._driver_starting is not None:
            self._await_driver(self._driver_starting, now)
            return
        driver = self.driver
        if driver is None or now < self._driver_retry_at:
            return
        if not self._driver_down:
            if driver.is_alive():
                return
            self._driver_down = True
            self._dirty = True
            log.error(
                "desk %s: media driver pid %d exited (code %s): starting a new one",
                self.instance,
                driver.pid,
                driver.process.returncode,
            )
        try:
            self._driver_starting = self._launch_driver()
        except OSError as e:
            self._driver_gave_up(now, f"could not start a media driver: {e}")
            return
        self._driver_deadline = now + self._driver_ready_s
        self._dirty = True
        log.info("desk %s: media driver pid %d starting", self.instance, self._driver_starting.pid)

    def _launch_driver(self) -> DriverProcess:
        driver = launch_driver(
            self.instance, config_path=self.channels_config, log_path=self.paths.log("driver")
        )
        driver.start_ticks = processes.start_ticks(driver.pid)
        return driver

    def _await_driver(self, pending: DriverProcess, now: float) -> None:
        try:
            ready = pending.ready()
        except DriverStartError as e:
            self._driver_gave_up(now, str(e))
            return
        if ready:
            self.driver, self._driver_starting = pending, None
            self._driver_down = False
            self._driver_retries = 0
            self._dirty = True
            log.info("desk %s: media driver pid %d at %s", self.instance, pending.pid, pending.dir)
            for slot in self.slots:  # daemons need a moment to reconnect
                if slot.last_heartbeat is not None:
                    slot.last_heartbeat = now
                if slot.state == STARTING:
                    slot.deadline = max(slot.deadline, now + self._startup_s)
        elif now >= self._driver_deadline:
            pending.kill()  # hung, most likely: waiting for a SIGTERM would block the loop
            self._driver_gave_up(
                now, f"media driver pid {pending.pid} not ready after {self._driver_ready_s:g} s: killed"
            )

    def _driver_gave_up(self, now: float, reason: str) -> None:
        """One replacement failed: try again after a back-off that doubles up to DRIVER_RETRY_MAX_S (a
        driver that cannot start, e.g. /dev/shm is full, costs a process start now and then, no more)."""
        self._driver_starting = None
        delay = min(DRIVER_RETRY_S * 2**self._driver_retries, DRIVER_RETRY_MAX_S)
        self._driver_retries += 1
        self._driver_retry_at = now + delay
        self._dirty = True
        log.error("desk %s: %s; retrying in %g s", self.instance, reason, delay)

    def _start_driver(self) -> None:
        try:
            self.driver = spawn_driver(
                self.instance, config_path=self.channels_config, log_path=self.paths.log("driver")
            )
        except BusError as e:
            raise SupervisorError(f"media driver: {e}", "driver", self.paths.log("driver")) from None
        self.driver.start_ticks = processes.start_ticks(self.driver.pid)
        # a replacement may first wait driver_timeout_ms for the dead driver's heartbeat to go stale
        timeout_ms = load_bus_config(self.channels_config).driver.driver_timeout_ms
        self._driver_ready_s = timeout_ms / 1000 + DRIVER_READY_S
        self._dirty = True
        log.info("desk %s: media driver pid %d at %s", self.instance, self.driver.pid, self.driver.dir)

    # == signals =================================================================================
    def _install_signals(self) -> dict[int, Any]:
        previous: dict[int, Any] = {}
        with contextlib.suppress(ValueError):  # not the main thread: the caller stops us
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                previous[sig] = signal.signal(sig, self._on_signal)
        return previous

    def _restore_signals(self, previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: object) -> None:
        log.info(
            "received %s: %s", signal.Signals(signum).name, "hurrying" if self._stop_requested else "stopping"
        )
        self.request_stop()

    # == reporting ===============================================================================
    def _write(self) -> None:
        if not self._dirty or self.state == "stopped":
            return
        self._dirty = False
        write_runtime(self.paths.runtime, self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "state": self.state,
            "error": self.error,
            "profile": str(self.profile.path),
            "profile_name": self.profile.name,
            "started_ns": self.started_ns,
            "heartbeat_interval_ms": self.profile.heartbeat_interval_ms,
            "heartbeat_timeout_ms": self.profile.heartbeat_timeout_ms,
            "startup_timeout_ms": self.profile.startup_timeout_ms,
            "stop_timeout_ms": self.profile.stop_timeout_ms,
            "log_dir": str(self.paths.log_dir),
            "control_socket": str(self.paths.socket),
            "stop_with": self.stop_with,
            "supervisor": {
                "pid": os.getpid(),
                "start_ticks": processes.start_ticks(os.getpid()),
                "started_ns": self.started_ns,
                "log": str(self.supervisor_log) if self.supervisor_log else "",
            },
            "driver": self._driver_entry(),
            "daemons": [
                {
                    "name": s.name,
                    "kind": s.spec.kind,
                    "pid": s.pid if s.process is not None else 0,
                    "start_ticks": s.start_ticks if s.process is not None else None,
                    "started_ns": s.started_ns,
                    "state": s.state,
                    "restarts": s.restarts,
                    "last_exit": s.last_exit,
                    "error": s.error,
                    "log": str(s.log_path),
                }
                for s in self.slots
            ],
        }

    def _driver_entry(self) -> dict[str, Any]:
        """The driver serving (or starting). A dead one is not recorded: its pid may be reused, and
        whatever reads the runtime file (`down`, the next `up`) stops the processes it names."""
        drv = self._driver_starting or (None if self._driver_down else self.driver)
        if self._driver_starting is not None or self.driver is None:
            state = "starting"  # a replacement, or the first driver of a desk that is starting
        else:
            state = "down" if self._driver_down else "running"
        return {
            "pid": drv.pid if drv else 0,
            "start_ticks": drv.start_ticks if drv else None,
            "dir": str(drv.dir if drv else instance_dir(self.instance)),
            "log": str(self.paths.log("driver")),
            "state": state,
        }

    def _result(self, ok: bool, error: SupervisorError | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": ok,
            "instance": self.instance,
            "profile": str(self.profile.path),
            "pid": os.getpid(),
            "daemons": [{"name": s.name, "pid": s.pid, "state": s.state} for s in self.slots],
        }
        if error is not None:
            out["error"] = str(error)
            out["daemon"] = error.daemon
            out["log"] = str(error.log_path) if error.log_path else ""
        return out

    def _startup_failure(self, slot: DaemonSlot) -> str:
        tail = log_tail(slot.log_path)
        where = f"see {slot.log_path}"
        return f"{slot.name} did not start: {slot.error}; {where}" + (f"\n{tail}" if tail else "")

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.channels_config is not None:
            env["AERODESK_CHANNELS_CONFIG"] = str(self.channels_config)
        return env


def open_log(path: Path, banner: str) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "ab")  # noqa: SIM115 (handed to the child)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    f.write(f"---- {stamp} aerodesk supervisor pid {os.getpid()}: {banner}\n".encode())
    f.flush()
    return f


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log since its latest supervisor banner (what the last launch wrote)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    marker = text.rfind("---- ")
    if marker >= 0:
        text = text[marker:]
    return "\n".join(text.strip().splitlines()[-lines:])


def _exit_text(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exited with code {code}"
