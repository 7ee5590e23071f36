"""Processes by pid: is it (still) the process we started, and stopping it - never by name.

A pid alone can be reused by an unrelated process after the original exits, so every pid the desk
records comes with the process's start time in clock ticks since boot (/proc/<pid>/stat, field 22):
a pid whose start time differs is not ours and is never signalled.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

_POLL_S = 0.02


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, None if there is no such process (or no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 overall; fields[0] here is field 3 (state)
    except (IndexError, ValueError):
        return None


def is_zombie(pid: int) -> bool:
    """Exited, waiting to be reaped. Every thread must be a zombie: the main thread of a
    multi-threaded process shows Z while its other threads still run its exit (files, locks held)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in tasks:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue  # that thread is gone
        if not stat[stat.rfind(")") + 2 :].startswith(("Z", "X")):
            return False
    return True


def alive(pid: int | None, ticks: int | None = None) -> bool:
    """True while `pid` runs and, when `ticks` is given, is the process that started at `ticks`."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return ticks is None  # someone else's process: never ours if we know our start time
    if is_zombie(pid):
        return False  # exited, waiting for its parent to reap it
    if ticks is not None:
        now = start_ticks(pid)
        return now is None or now == ticks  # no /proc: fall back to the pid alone
    return True


def signal_pid(pid: int, sig: int, ticks: int | None = None) -> bool:
    """Send `sig` to `pid` if it is still the process recorded with `ticks`; True if it was sent."""
    if not alive(pid, ticks):
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, ticks: int | None, timeout_s: float) -> bool:
    """Wait up to `timeout_s` for the process to exit; True once it has (a zombie has exited).

    It never reaps: a child's exit status belongs to whoever started it (a Popen's wait() would
    find the status taken and report 0 for a process that a signal ended)."""
    deadline = time.monotonic() + timeout_s
    while alive(pid, ticks):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True


def stop_pid(pid: int, ticks: int | None, timeout_s: float) -> str:
    """SIGTERM, wait up to `timeout_s`, then SIGKILL. Returns "gone" (was not running), "stopped"
    (exited after SIGTERM) or "killed"."""
    if not signal_pid(pid, signal.SIGTERM, ticks):
        return "gone"
    if wait_gone(pid, ticks, timeout_s):
        return "stopped"
    signal_pid(pid, signal.SIGKILL, ticks)
    wait_gone(pid, ticks, 5.0)
    return "killed"
