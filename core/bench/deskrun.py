"""Real desks for end-to-end benchmarks: profiles written from the built-in ones, started and stopped
through the supervisor's own functions (core.supervisor.ops, what `aerodesk up/down` run), and the CPU
of every process they run.

    with bench_workspace() as work:                      # a temporary data dir (WAL, journals, logs)
        text = profile_text(load_profile("demo"), configs={"strategies": {...}})
        with BenchDesk(work.profile("demo", text)) as desk:  # `up --detach` on bench-<kind>-<random>
            meter = desk.cpu_meter(); meter.start(); ...; cpu = meter.stop()

A desk is always stopped (`down`, then any recorded process still alive is killed by pid and start
time, never by name) and its /dev/shm directory removed, even when the benchmark fails. The
workspace is removed afterwards unless something failed: then its path is in the error, logs kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.bus import instance_dir
from core.daemons.profile import DaemonSpec, Profile
from core.journal.paths import DATA_ENV
from core.supervisor import ops, processes
from core.supervisor.runtime import instance_paths, read_runtime, recorded_processes, remove_quietly

CLK_TCK = os.sysconf("SC_CLK_TCK")
# Config keys holding file paths, relative to the profile they are written in: made absolute when a
# built-in profile is rewritten elsewhere.
PATH_KEYS = frozenset({"instruments", "risk", "venues", "strategies_file", "path", "wal_dir", "clordid_dir"})


class BenchDeskError(RuntimeError):
    pass


# -- CPU ------------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process so far (/proc/<pid>/stat), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # fields[0] is field 3 (state)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class CpuMeter:
    """CPU of named processes over a window, in % of one core (utime + stime deltas over wall time)."""

    pids: Mapping[str, int]
    _start: dict[str, float] = field(default_factory=dict)
    _t0: float = 0.0

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._start = {n: s for n, p in self.pids.items() if (s := cpu_seconds(p)) is not None}

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self._t0
        out = {}
        for name, t0 in self._start.items():
            t1 = cpu_seconds(self.pids[name])
            if t1 is not None:
                out[name] = 100.0 * (t1 - t0) / wall
        return out


def cpu_text(cpu: Mapping[str, float]) -> str:
    parts = ", ".join(f"{n} {v:.1f}" for n, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
    return f"total {sum(cpu.values()):.1f} % of one core ({parts})"


# -- profiles -------------------------------------------------------------------------------------
def profile_text(
    base: Profile,
    *,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    idle: Mapping[str, str] | None = None,
    desk: Mapping[str, Any] | None = None,
    description: str = "",
) -> str:
    """TOML of `base` with the same daemons, members, idle strategies and configs, except that
    `configs[name]` replaces (keys given) the config of the daemon or member `name` and `idle[name]`
    the idle strategy of daemon `name`; relative paths become absolute (the text is written elsewhere)."""
    configs = configs or {}
    idle = idle or {}
    root = base.path.parent
    d: dict[str, Any] = {
        "description": description or base.description,
        "idle_strategy": base.idle_strategy,
        "heartbeat_interval_ms": base.heartbeat_interval_ms,
        "heartbeat_timeout_ms": base.heartbeat_timeout_ms,
        "startup_timeout_ms": base.startup_timeout_ms,
        "stop_timeout_ms": base.stop_timeout_ms,
        "restart_backoff_ms": base.restart_backoff_ms,
        "restart_backoff_max_ms": base.restart_backoff_max_ms,
        "max_restarts": base.max_restarts,
        "restart_window_ms": base.restart_window_ms,
        **(desk or {}),
    }
    lines = [f"# written by core/bench from {base.path}", "[desk]"]
    lines += [f"{k} = {_toml(v)}" for k, v in d.items()]
    for spec in base.daemons:
        own_idle = idle.get(spec.name, spec.idle_strategy)
        lines += ["", "[[daemon]]", *_spec_lines(spec, root, configs, "daemon", own_idle=own_idle)]
        for member in spec.members:
            lines += ["", "[[daemon.member]]", *_spec_lines(member, root, configs, "daemon.member")]
    return "\n".join(lines) + "\n"


def _spec_lines(
    spec: DaemonSpec,
    root: Path,
    configs: Mapping[str, Mapping[str, Any]],
    table: str,
    own_idle: str | None = None,
) -> list[str]:
    lines = [f"name = {_toml(spec.name)}", f"kind = {_toml(spec.kind)}"]
    if own_idle is not None:  # a daemon (members run on their composite's)
        lines += [f"idle_strategy = {_toml(own_idle)}", f"restart = {_toml(spec.restart)}"]
    if spec.members:
        return lines
    config = dict(spec.config.data)
    for key, value in config.items():
        if (
            key in PATH_KEYS
            and isinstance(value, str)
            and value
            and not Path(value).expanduser().is_absolute()
        ):
            config[key] = str(root / value)
    config.update(configs.get(spec.name, {}))
    if config:
        lines.append(f"[{table}.config]")
        lines += [f"{k} = {_toml(v)}" for k, v in config.items()]
    return lines


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))  # a TOML basic string is a JSON string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} into a bench profile")


def member_or_daemon(profile: Profile, kind: str) -> DaemonSpec:
    """The (first) daemon or composite member of a kind: whose idle strategy a baseline copies."""
    for spec in profile.daemons:
        for s in (spec, *spec.members):
            if s.kind == kind:
                return s
    raise KeyError(f"profile {profile.name} runs no {kind} daemon")


# -- workspace and desks --------------------------------------------------------------------------
class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"

    def profile(self, name: str, text: str) -> Path:
        path = self.root / f"{name}.toml"
        path.write_text(text)
        return path

    def file(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text)
        return path


@contextlib.contextmanager
def bench_workspace(prefix: str) -> Iterator[Workspace]:
    """A temporary directory, and $AERODESK_DATA pointing into it while the block runs (desks started
    meanwhile keep their WAL, journals and logs there)."""
    root = Path(tempfile.mkdtemp(prefix=f"aerodesk-{prefix}-"))
    work = Workspace(root)
    previous = os.environ.get(DATA_ENV)
    os.environ[DATA_ENV] = str(work.data)
    failed = False
    try:
        yield work
    except BaseException as e:
        failed = True
        e.add_note(f"benchmark workspace kept for its logs: {root}")
        raise
    finally:
        if previous is None:
            os.environ.pop(DATA_ENV, None)
        else:
            os.environ[DATA_ENV] = previous
        if not failed:
            shutil.rmtree(root, ignore_errors=True)


class BenchDesk:
    """A desk of `profile` on a fresh instance, up for the duration of the block."""

    def __init__(self, profile: Path, kind: str) -> None:
        self.profile = profile
        self.instance = f"bench-{kind}-{uuid.uuid4().hex[:8]}"
        self._seen: dict[int, int | None] = {}

    def __enter__(self) -> BenchDesk:
        try:
            outcome = ops.up(
                str(self.profile), self.instance, detach=True, stop_with=os.getpid(), info=lambda _m: None
            )
            self._remember()
            if outcome.code != ops.OK:
                raise BenchDeskError(f"the benchmark desk did not start: {outcome.message}")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _remember(self) -> dict[str, Any]:
        data = read_runtime(instance_paths(self.instance).runtime) or {}
        for _what, pid, ticks in recorded_processes(data):
            self._seen[pid] = ticks
        return data

    def processes(self) -> dict[str, int]:
        """name -> pid of every process of the desk: supervisor, media driver, daemons."""
        data = self._remember()
        out = {}
        for what, pid, _ticks in recorded_processes(data):
            out[what.removeprefix("daemon ")] = pid
        return out

    def cpu_meter(self) -> CpuMeter:
        return CpuMeter(self.processes())

    def log_dir(self) -> Path:
        return instance_paths(self.instance).log_dir

    def stop(self) -> None:
        """`down`; then kill what is still alive (by pid and start time); remove /dev/shm. Never raises."""
        with contextlib.suppress(Exception):
            self._remember()
        with contextlib.suppress(Exception):
            ops.down(self.instance, info=lambda _m: None)
        for pid, ticks in self._seen.items():
            if processes.alive(pid, ticks):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                processes.wait_gone(pid, ticks, 5.0)
        shm = instance_dir(self.instance)
        if shm.exists():
            shutil.rmtree(shm, ignore_errors=True)
        with contextlib.suppress(Exception):
            paths = instance_paths(self.instance)
            remove_quietly(paths.runtime, paths.socket, paths.lock)
