"""`aerodesk up / down / status / restart` as library calls; cli/desk.py only prints what they return.

Each returns an Outcome: the exit code (0 ok, 1 failed, 2 usage, 3 not running, 4 unhealthy), a
message for stderr and, for status, the data for stdout.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.bus.client import BusClient
from core.bus.config import load_bus_config
from core.bus.errors import DeskNotRunning
from core.bus.instance import (
    AERON_DIR_ENTRIES,
    InstanceNameError,
    instance_dir,
    probe_driver,
    resolve_instance,
)
from core.config import ConfigError
from core.daemons.profile import Profile, load_profile
from core.supervisor import processes
from core.supervisor.control import ControlError, request
from core.supervisor.monitor import HeartbeatInfo, HeartbeatMonitor
from core.supervisor.runtime import (
    InstancePaths,
    RuntimeDirError,
    instance_paths,
    lock_held,
    read_runtime,
    recorded_processes,
    remove_quietly,
)
from core.supervisor.supervisor import Supervisor, open_log

log = logging.getLogger("aerodesk.supervisor")

OK, FAILURE, USAGE, NOT_RUNNING, UNHEALTHY = 0, 1, 2, 3, 4
_POLL_S = 0.05


@dataclass
class Outcome:
    code: int
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


Info = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


# == up ===========================================================================================
def up(
    profile_arg: str,
    instance: str | None = None,
    *,
    detach: bool = False,
    stop_with: int | None = None,
    info: Info = _stderr,
) -> Outcome:
    """Start the desk and return once every daemon sent its first heartbeat (see the CLI help).

    `stop_with`: a pid whose end stops the desk (a tool that starts a desk for its own lifetime)."""
    try:
        name = resolve_instance(instance)
        profile = load_profile(profile_arg)
        paths = instance_paths(name)
    except (ConfigError, InstanceNameError) as e:
        return Outcome(USAGE, str(e))
    except RuntimeDirError as e:
        return Outcome(FAILURE, str(e))
    if stop_with is not None and not processes.alive(stop_with):
        return Outcome(USAGE, f"--stop-with {stop_with}: no such process")
    if lock_held(paths.lock):
        return _already_running(name, profile, paths)
    cleaned = clean_stale(paths)
    if cleaned:
        info(cleaned)
    if detach:
        return _up_detached(name, profile, paths, stop_with)
    supervisor = Supervisor(name, profile, paths, stop_with=stop_with)

    def ready(result: dict[str, Any]) -> None:
        if result["ok"]:
            info(_up_message(result) + "; Ctrl-C stops it")

    code = supervisor.run(on_ready=ready)
    if code:
        return Outcome(FAILURE, f"desk {name} did not start: {supervisor.error}")
    return Outcome(OK, f"desk {name} stopped")


def _already_running(name: str, profile: Profile, paths: InstancePaths) -> Outcome:
    data = _wait_started(paths, profile.startup_timeout_ms / 1000 * (len(profile.daemons) + 1))
    if data is None:
        return Outcome(UNHEALTHY, f"desk {name} is running but its runtime file {paths.runtime} is missing")
    if data.get("profile") != str(profile.path):
        return Outcome(
            FAILURE,
            f"desk {name} is already running with profile {data.get('profile_name')} "
            f"({data.get('profile')}); stop it first (aerodesk down) or pick another --instance",
        )
    st = status(name)
    pid = (data.get("supervisor") or {}).get("pid")
    if st.code == OK:
        return Outcome(OK, f"desk {name} is already running (supervisor pid {pid}): nothing to do")
    return Outcome(
        UNHEALTHY, f"desk {name} is already running (supervisor pid {pid}) but unhealthy: {st.message}"
    )


def _wait_started(paths: InstancePaths, timeout_s: float) -> dict[str, Any] | None:
    """The runtime file once its supervisor is past starting (another `up` may be starting it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        data = read_runtime(paths.runtime)
        if (data is not None and data.get("state") != "starting") or time.monotonic() >= deadline:
            return data
        if not lock_held(paths.lock):
            return read_runtime(paths.runtime)
        time.sleep(_POLL_S)


def _up_detached(name: str, profile: Profile, paths: InstancePaths, stop_with: int | None) -> Outcome:
    log_path = paths.log("supervisor")
    logfile = open_log(log_path, f"starting the supervisor of desk {name}")
    cmd = [
        sys.executable,
        "-m",
        "core.supervisor",
        "run",
        "--instance",
        name,
        "--profile",
        str(profile.path),
        "--notify-stdout",
        "--log-file",
        str(log_path),
        *(["--stop-with", str(stop_with)] if stop_with is not None else []),
    ]
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=logfile,
            start_new_session=True,  # outlives this command and its terminal
        )
    finally:
        logfile.close()
    # The supervisor always answers (its own timeouts bound the start); this only guards a hang.
    guard_s = 60 + (profile.startup_timeout_ms / 1000) * len(profile.daemons) * (profile.max_restarts + 1)
    try:
        line = _read_line(proc, guard_s)
    except BaseException:
        proc.terminate()  # interrupted: the supervisor stops what it started
        proc.wait()
        raise
    finally:
        assert proc.stdout is not None
        proc.stdout.close()
    if line is None:
        code = proc.poll()
        if code is None:
            proc.terminate()
        return Outcome(
            FAILURE,
            f"the supervisor of desk {name} gave no answer (exit code {code}); see {log_path}",
        )
    try:
        result = json.loads(line)
    except ValueError:
        return Outcome(FAILURE, f"the supervisor of desk {name} answered {line!r}; see {log_path}")
    if result.get("ok"):
        return Outcome(OK, _up_message(result) + f" (supervisor pid {result.get('pid')}, log {log_path})")
    proc.wait()
    return Outcome(FAILURE, f"desk {name} did not start: {result.get('error')}")


def _read_line(proc: subprocess.Popen[bytes], timeout_s: float) -> str | None:
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    data = b""
    fd = proc.stdout.fileno()
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if sel.select(min(left, 0.5)):
            chunk = os.read(fd, 65536)
            if not chunk:
                break  # the supervisor closed stdout (or exited) without a line
            data += chunk
    sel.close()
    return data.split(b"\n", 1)[0].decode(errors="replace") if b"\n" in data else None


def _up_message(result: dict[str, Any]) -> str:
    daemons = ", ".join(f"{d['name']} (pid {d['pid']})" for d in result.get("daemons", []))
    return f"desk {result.get('instance')} is up: {daemons}"


# == down =========================================================================================
def down(instance: str | None = None, *, info: Info = _stderr) -> Outcome:
    """Stop the desk: SIGTERM to its supervisor (which stops the daemons in reverse order), then any
    recorded process still alive (SIGTERM, then SIGKILL), by pid only; remove the driver directory and
    the runtime files. Not running: exit 3 (after removing what a crash left behind)."""
    try:
        name = resolve_instance(instance)
        paths = instance_paths(name)
    except InstanceNameError as e:
        return Outcome(USAGE, str(e))
    except RuntimeDirError as e:
        return Outcome(FAILURE, str(e))
    held = lock_held(paths.lock)
    data = read_runtime(paths.runtime)
    if held and data is None:
        data = _wait_for_runtime(paths, 5.0)
    if data is None:
        removed = remove_driver_dir(name)
        remove_quietly(paths.runtime, paths.socket)
        note = f" (removed the stale driver directory {instance_dir(name)})" if removed else ""
        return Outcome(NOT_RUNNING, f"desk {name} is not running{note}")
    stop_s = float(data.get("stop_timeout_ms", 10_000)) / 1000
    sup = data.get("supervisor") or {}
    if held:
        pid, ticks = int(sup.get("pid", 0)), sup.get("start_ticks")
        info(f"stopping desk {name} (supervisor pid {pid})")
        processes.signal_pid(pid, signal.SIGTERM, ticks)
        budget = stop_s * (len(data.get("daemons") or []) + 2) + 5
        deadline = time.monotonic() + budget
        while lock_held(paths.lock) and time.monotonic() < deadline:
            time.sleep(_POLL_S)
        if lock_held(paths.lock):
            info(f"the supervisor (pid {pid}) did not stop within {budget:g} s: killing it")
            processes.signal_pid(pid, signal.SIGKILL, ticks)
        processes.wait_gone(pid, ticks, 5.0)  # it releases the lock just before it exits
    leftovers = _stop_recorded(data, stop_s, info)
    removed = remove_driver_dir(name)
    remove_quietly(paths.runtime, paths.socket)
    extra = []
    if leftovers:
        extra.append(f"stopped left-over {', '.join(leftovers)}")
    if removed:
        extra.append(f"removed {instance_dir(name)}")
    return Outcome(OK, f"desk {name} stopped" + (f" ({'; '.join(extra)})" if extra else ""))


def _wait_for_runtime(paths: InstancePaths, timeout_s: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        data = read_runtime(paths.runtime)
        if data is not None or not lock_held(paths.lock):
            return data
        time.sleep(_POLL_S)
    return None


def _stop_recorded(data: dict[str, Any], stop_s: float, info: Info) -> list[str]:
    """Every recorded process still alive (its supervisor is gone): stop it by pid and start time."""
    stopped = []
    for what, pid, ticks in recorded_processes(data):
        if processes.alive(pid, ticks):
            how = processes.stop_pid(pid, ticks, stop_s)
            info(f"{what} pid {pid}: {how}")
            stopped.append(f"{what} (pid {pid}, {how})")
    return stopped


def clean_stale(paths: InstancePaths) -> str:
    """A runtime file without a live supervisor: stop what it records (by pid) and remove it."""
    data = read_runtime(paths.runtime)
    if data is None or lock_held(paths.lock):
        return ""
    stop_s = float(data.get("stop_timeout_ms", 10_000)) / 1000
    stopped = _stop_recorded(data, stop_s, lambda _m: None)
    remove_quietly(paths.runtime, paths.socket)
    pid = (data.get("supervisor") or {}).get("pid")
    note = f"; stopped {', '.join(stopped)}" if stopped else ""
    return f"cleaned the stale runtime file of desk {paths.instance} (supervisor pid {pid} is gone){note}"


def remove_driver_dir(instance: str) -> bool:
    """Remove the instance's driver directory if no live driver owns it and it holds only driver files."""
    d = instance_dir(instance)
    if not d.exists():
        return False
    probe = probe_driver(d, load_bus_config().driver.driver_timeout_ms)
    if probe.pid is not None and processes.alive(probe.pid):
        return False
    try:
        if set(os.listdir(d)) - AERON_DIR_ENTRIES:
            return False
    except OSError:
        return False
    shutil.rmtree(d, ignore_errors=True)
    return not d.exists()


# == status =======================================================================================
def status(instance: str | None = None, *, window_s: float | None = None) -> Outcome:
    """Per daemon: pid, state, heartbeat age, restarts, counters. 0 healthy, 3 not running, 4 unhealthy."""
    try:
        name = resolve_instance(instance)
        paths = instance_paths(name)
    except InstanceNameError as e:
        return Outcome(USAGE, str(e))
    except RuntimeDirError as e:
        return Outcome(FAILURE, str(e))
    held = lock_held(paths.lock)
    data = read_runtime(paths.runtime)
    base: dict[str, Any] = {"instance": name, "healthy": False}
    if not held:
        if data is None:
            return Outcome(NOT_RUNNING, f"desk {name} is not running", {**base, "state": "not running"})
        alive = [f"{w} pid {p}" for w, p, t in recorded_processes(data) if processes.alive(p, t)]
        pid = (data.get("supervisor") or {}).get("pid")
        if alive:
            return Outcome(
                UNHEALTHY,
                f"desk {name}: its supervisor (pid {pid}) is gone but {', '.join(alive)} still run; "
                "stop them with `aerodesk down`",
                {**base, "state": "orphaned", "alive": alive},
            )
        return Outcome(
            NOT_RUNNING,
            f"desk {name} is not running (stale runtime file of supervisor pid {pid})",
            {**base, "state": "not running"},
        )
    if data is None:
        return Outcome(UNHEALTHY, f"desk {name} is starting", {**base, "state": "starting"})
    interval_s = float(data.get("heartbeat_interval_ms", 250)) / 1000
    timeout_s = float(data.get("heartbeat_timeout_ms", 3000)) / 1000
    # Two heartbeat intervals, at least a second (a loaded host delays a beat); it ends as soon as
    # every daemon was heard from, so a healthy desk answers within about one interval.
    window = window_s if window_s is not None else max(2 * interval_s + 0.25, 1.0)
    daemons = data.get("daemons") or []
    problems: list[str] = []
    driver = data.get("driver") or {}
    # No driver serving (the desk is starting, or its driver died and the supervisor is replacing it):
    # nothing can be heard, and the supervisor is on it. Say that, not every daemon's silence.
    replacing = driver.get("state", "running") != "running"
    beats: dict[str, HeartbeatInfo] = {}
    if replacing and data.get("state") == "running":
        problems.append(
            f"media driver is starting (pid {driver.get('pid')}) after the last one died; the daemons are "
            "heard again once it serves"
            if driver["state"] == "starting"
            else "media driver died and could not be started again yet: the supervisor retries (see "
            f"{driver.get('log', 'its log')})"
        )
    elif not replacing:
        try:
            beats = observe_heartbeats(name, {d["name"]: d.get("pid", 0) for d in daemons}, window)
        except DeskNotRunning as e:
            problems.append(f"media driver unreachable: {e}")
    now_ns = time.time_ns()
    rows = []
    for d in daemons:
        hb = beats.get(d["name"])
        age_ms = round((now_ns - hb.ts) / 1e6, 1) if hb is not None else None
        healthy = (
            d.get("state") == "running"
            and hb is not None
            and hb.pid == d.get("pid")
            and hb.state == "Running"
            and age_ms is not None
            and age_ms <= timeout_s * 1000
        )
        if not healthy and not (replacing and d.get("state") == "running"):
            problems.append(_daemon_problem(d, hb))
        rows.append(
            {
                "name": d["name"],
                "kind": d.get("kind"),
                "pid": d.get("pid"),
                "state": d.get("state"),
                "healthy": healthy,
                "heartbeat_state": hb.state if hb else None,
                "heartbeat_age_ms": age_ms,
                "restarts": d.get("restarts", 0),
                "last_exit": d.get("last_exit"),
                "error": d.get("error", ""),
                "log": d.get("log", ""),
                "counters": hb.counters if hb else {},
            }
        )
    if data.get("state") != "running":
        problems.insert(0, f"desk is {data.get('state')}")
    healthy = not problems
    sup = data.get("supervisor") or {}
    out = {
        "instance": name,
        "state": data.get("state"),
        "healthy": healthy,
        "profile": data.get("profile"),
        "profile_name": data.get("profile_name"),
        "started_ns": data.get("started_ns"),
        "supervisor_pid": sup.get("pid"),
        "driver": data.get("driver"),
        "log_dir": data.get("log_dir"),
        "daemons": rows,
        "problems": problems,
    }
    if healthy:
        return Outcome(OK, f"desk {name} is healthy", out)
    return Outcome(UNHEALTHY, f"desk {name} is unhealthy: {'; '.join(problems)}", out)


def _daemon_problem(d: dict[str, Any], hb: HeartbeatInfo | None) -> str:
    name, state = d["name"], d.get("state")
    if state != "running":
        return f"{name} is {state}" + (f" ({d['error']})" if d.get("error") else "")
    if hb is None:
        return f"{name} sent no heartbeat"
    if hb.pid != d.get("pid"):
        return f"{name}: heartbeat from pid {hb.pid}, expected {d.get('pid')}"
    if hb.state != "Running":
        return f"{name} reports {hb.state}"
    return f"{name}: last heartbeat too old"


def observe_heartbeats(instance: str, expected: dict[str, int], window_s: float) -> dict[str, HeartbeatInfo]:
    """Watch the heartbeats stream (untethered) for up to `window_s`, or until every expected daemon
    (name -> pid) was heard from. DeskNotRunning when no driver serves the instance."""
    bus = BusClient(instance, role_name="status").connect()
    try:
        monitor = HeartbeatMonitor(bus)
        deadline = time.monotonic() + window_s
        while time.monotonic() < deadline:
            if not monitor.poll():
                seen = monitor.latest
                if all(n in seen and seen[n].pid == p for n, p in expected.items()):
                    break
                time.sleep(0.005)
        return dict(monitor.latest)
    finally:
        bus.close()


# == restart ======================================================================================
def restart(daemon: str, instance: str | None = None) -> Outcome:
    """Restart one daemon through its supervisor; returns once it is running again (or failed)."""
    try:
        name = resolve_instance(instance)
        paths = instance_paths(name)
    except InstanceNameError as e:
        return Outcome(USAGE, str(e))
    except RuntimeDirError as e:
        return Outcome(FAILURE, str(e))
    if not lock_held(paths.lock):
        return Outcome(NOT_RUNNING, f"desk {name} is not running")
    data = read_runtime(paths.runtime) or {}
    timeout_s = (
        float(data.get("stop_timeout_ms", 10_000)) + float(data.get("startup_timeout_ms", 30_000))
    ) / 1000 + 10
    try:
        answer = request(paths.socket, {"cmd": "restart", "daemon": daemon}, timeout_s)
    except ControlError as e:
        return Outcome(FAILURE, f"desk {name}: {e}")
    if answer.get("ok"):
        return Outcome(
            OK, f"{daemon} restarted (pid {answer.get('pid')})", {"daemon": daemon, "pid": answer.get("pid")}
        )
    return Outcome(int(answer.get("code", FAILURE)), str(answer.get("error", "restart failed")))


def log_path(instance: str, daemon: str) -> Path:
    return instance_paths(instance, create=False).log(daemon)
