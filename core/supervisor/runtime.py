"""Per-instance runtime files: which supervisor runs a desk, with which driver and daemon pids.

Where: the runtime directory is $AERODESK_RUNTIME_DIR, else $XDG_RUNTIME_DIR/aerodesk, else
/tmp/aerodesk-<uid>; it is created with mode 0700 and must belong to this user. Per instance:

    <runtime>/<instance>.json   the runtime file (below), rewritten atomically on every change
    <runtime>/<instance>.lock   flock-ed by the running supervisor for its whole life
    <runtime>/<instance>.sock   the supervisor's control socket (core/supervisor/control.py)

Logs go to <data dir>/<instance>/logs/ (data dir: core.journal.paths.default_data_dir()):
supervisor.log (detached supervisors), driver.log and one <daemon>.log per daemon (its stderr).

The lock is the truth about liveness: it is released by the kernel when the supervisor dies, however
it dies. A runtime file whose lock is free is stale: `aerodesk up` and `down` clean it (stopping any
recorded process still alive, by pid and start time only).

Runtime file (JSON, version 1):

    {"version": 1, "instance": "demo", "state": "starting|running|stopping|failed",
     "profile": "/abs/path/demo.toml", "profile_name": "demo", "started_ns": ..., "updated_ns": ...,
     "heartbeat_interval_ms": 250, "heartbeat_timeout_ms": 3000, "startup_timeout_ms": 30000,
     "stop_timeout_ms": 10000,
     "log_dir": "...", "control_socket": "...", "error": "",
     "supervisor": {"pid": 1, "start_ticks": 2, "started_ns": 3, "log": "..."},
     "driver": {"pid": 4, "start_ticks": 5, "dir": "/dev/shm/aerodesk-demo", "log": "..."},
     "daemons": [{"name": "md", "kind": "md", "pid": 6, "start_ticks": 7, "started_ns": 8,
                  "state": "running", "restarts": 0, "last_exit": null, "error": "", "log": "..."}]}
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.bus.instance import resolve_instance
from core.journal.paths import default_data_dir

RUNTIME_ENV = "AERODESK_RUNTIME_DIR"
VERSION = 1


class RuntimeDirError(RuntimeError):
    pass


def runtime_dir(create: bool = True) -> Path:
    explicit = os.environ.get(RUNTIME_ENV, "").strip()
    if explicit:
        d = Path(explicit).expanduser()
    elif os.environ.get("XDG_RUNTIME_DIR", "").strip():
        d = Path(os.environ["XDG_RUNTIME_DIR"]) / "aerodesk"
    else:
        d = Path("/tmp") / f"aerodesk-{os.getuid()}"
    if create:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = d.stat()
        if st.st_uid != os.getuid():
            raise RuntimeDirError(f"runtime directory {d} belongs to uid {st.st_uid}, not to this user")
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(d, 0o700)
    return d


@dataclass(frozen=True)
class InstancePaths:
    instance: str
    runtime: Path
    lock: Path
    socket: Path
    log_dir: Path

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"


def instance_paths(instance: str | None = None, *, create: bool = True) -> InstancePaths:
    name = resolve_instance(instance)
    d = runtime_dir(create)
    logs = default_data_dir() / name / "logs"  # created by whoever writes a log first
    return InstancePaths(name, d / f"{name}.json", d / f"{name}.lock", d / f"{name}.sock", logs)


# -- the lock -------------------------------------------------------------------------------------
class InstanceLock:
    """The running supervisor's exclusive lock on its instance (released when its process dies)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        # The file stays (empty, harmless): unlinking a lock file races with a concurrent acquire.
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def lock_held(path: Path) -> bool:
    """True while some process holds the instance lock (a live supervisor)."""
    if not path.exists():
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


# -- the runtime file -----------------------------------------------------------------------------
def write_runtime(path: Path, data: dict[str, Any]) -> None:
    """Atomic: readers see the old file or the new one, never a half-written one."""
    data = {**data, "version": VERSION, "updated_ns": time.time_ns()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def read_runtime(path: Path) -> dict[str, Any] | None:
    """The runtime file, or None when there is none (or it is unreadable: treated as absent)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def remove_quietly(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def recorded_processes(data: dict[str, Any]) -> list[tuple[str, int, int | None]]:
    """(what, pid, start ticks) of every process a runtime file records: daemons in reverse start
    order (the order to stop them), then the driver, the supervisor first of all."""
    out: list[tuple[str, int, int | None]] = []
    sup = data.get("supervisor") or {}
    if sup.get("pid"):
        out.append(("supervisor", int(sup["pid"]), sup.get("start_ticks")))
    for d in reversed(data.get("daemons") or []):
        if d.get("pid"):
            out.append((f"daemon {d.get('name')}", int(d["pid"]), d.get("start_ticks")))
    drv = data.get("driver") or {}
    if drv.get("pid"):
        out.append(("media driver", int(drv["pid"]), drv.get("start_ticks")))
    return out
