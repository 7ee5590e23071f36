"""Engine snapshots beside the WAL, so a start replays only what came after the last snapshot.

The WAL outlives `down` / `up`, and without snapshots every start replays every input ever journaled
(the demo journals about 190 a second), until the replay no longer fits the start-up budget. A clean
stop of the oms (its WAL closed without an error, every input it applied journaled) pickles the
engine's state to `<wal>/engine.snapshot`, with a header that says which WAL state it is:

- `records`: how many WAL records the state has applied (records 0 .. records-1);
- `last`: a digest of the last of them (receive time and bytes): the WAL it is used with must hold
  exactly that record at that place (a WAL cut short, or another one, does not);
- `code`: a digest of the source of this module and of the `core` modules it imports, transitively
  (the engine, its replay, risk, the journal, the codec): only the code that wrote a snapshot reads
  it (a pickle of another version's objects could load without an error and hold the wrong fields,
  and changed replay code could act differently on the records after it);
- `config`: a digest of the configuration the engine was built with (instruments, risk, fees, venues).

`resume()` loads a snapshot when all of them match and replays the records after it; in every other
case (no snapshot, another code version or configuration, another WAL, an unreadable file) it says
why and replays the whole WAL, as before. The snapshot is a cache, the WAL stays the record: state
and outputs resumed from a snapshot are those of a full replay (tests/core/oms/test_snapshot.py).

A running oms also snapshots every `snapshot_every` journaled records (PeriodicSnapshots), so a
crash replays at most about that many records, not everything since the last clean stop.

The file is written under a temporary name, fsynced and renamed. It is a pickle: it is only ever read
from the desk's own data directory, which holds the WAL it stands for.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import logging
import os
import pickle
import re
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from core.instruments import InstrumentCatalog
from core.journal import Damage
from core.journal.files import fsync_dir
from core.oms.engine import OmsEngine
from core.oms.fees import FeeSchedule
from core.oms.outputs import OmsOutputs, OutputCollector
from core.oms.wal import JournaledEngine, check_replay_damage, wal_records
from core.risk.config import RiskConfig

log = logging.getLogger("aerodesk.oms")

SNAPSHOT_FILE = "engine.snapshot"
PROGRESS_EVERY = 512  # records replayed between progress calls
_MAGIC = b"aerodesk oms snapshot\n"
_FORMAT = 1
_CORE = Path(__file__).resolve().parents[1]  # the `core` package


class SnapshotError(Exception):
    """A snapshot file that cannot be used (unreadable, another format)."""


def record_digest(ts: int, payload: bytes | memoryview) -> str:
    """Digest of one WAL record: its receive time and bytes."""
    return hashlib.sha256(ts.to_bytes(8, "little", signed=True) + bytes(payload)).hexdigest()


@functools.cache
def code_digest() -> str:
    """Digest of the source files (paths and contents) of this module and every `core` module it
    imports, directly or not: the code that builds, replays and pickles the engine. A change anywhere
    else in `core` (the supervisor, the daemons, market data) no longer forces a full WAL replay."""
    h = hashlib.sha256()
    for path in engine_sources():
        h.update(str(path.relative_to(_CORE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def engine_sources() -> list[Path]:
    """The source files of the engine's snapshot and replay code (core/oms/snapshot.py and the `core`
    modules it imports, transitively, with their packages' __init__), found by reading the import
    statements: the same set whatever else a process has imported."""
    todo = [_CORE / "oms" / "snapshot.py"]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(_imported_sources(path))
    return sorted(seen)


# Files with no import line that names `core` (or is relative) are not parsed: the generated codec is
# most of the bytes and imports nothing of ours.
_MAY_IMPORT_CORE = re.compile(r"^[ \t]*(?:from[ \t]+\.|(?:from|import)[ \t][^\n]*\bcore\b)", re.M)


def _imported_sources(path: Path) -> list[Path]:
    text = path.read_bytes()
    if not _MAY_IMPORT_CORE.search(text.decode(errors="replace")):
        return []
    package = path.parent.relative_to(_CORE.parent).parts  # e.g. ("core", "oms")
    found: list[Path] = []
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module.split(".") if node.module else []
            if node.level:  # relative: from the package, up level - 1
                base = [*package[: len(package) - node.level + 1], *base]
            module = ".".join(base)
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] != "core":
                continue
            for depth in range(1, len(parts) + 1):  # a module's packages run their __init__ first
                at = _CORE.joinpath(*parts[1:depth])
                for candidate in (at / "__init__.py", at.with_suffix(".py")):
                    if candidate.is_file():
                        found.append(candidate)
    return found


def config_digest(
    catalog: InstrumentCatalog, config: RiskConfig, fees: FeeSchedule | None, venue_ids: dict[str, int] | None
) -> str:
    return hashlib.sha256(pickle.dumps((catalog, config, fees, venue_ids), protocol=5)).hexdigest()


def snapshot_path(wal_dir: str | Path) -> Path:
    return Path(wal_dir) / SNAPSHOT_FILE


def snapshot_bytes(engine: OmsEngine, records: int, last: str, config: str) -> bytes:
    """The snapshot file's contents: the engine's state (without its outputs) as the state after
    `records` WAL records, the last of which has digest `last`. Its state must not change meanwhile."""
    out, engine.out = engine.out, OutputCollector()  # outputs are the host's, never part of the state
    try:
        blob = pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        engine.out = out
    header = {"format": _FORMAT, "records": records, "last": last, "code": code_digest(), "config": config}
    return _MAGIC + json.dumps(header).encode() + b"\n" + blob


def write_snapshot_file(wal_dir: str | Path, data: bytes) -> Path:
    """Writes snapshot contents atomically: temporary file, fsync, rename, fsync of the directory."""
    path = snapshot_path(wal_dir)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # a writer's own: never two on one file
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return path


def read_snapshot(wal_dir: str | Path) -> tuple[dict, bytes] | None:
    """(header, pickled engine) of the WAL's snapshot; None when it has none."""
    path = snapshot_path(wal_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise SnapshotError(f"cannot read {path}: {e.strerror}") from e
    if not data.startswith(_MAGIC):
        raise SnapshotError(f"{path} is not an oms snapshot")
    end = data.find(b"\n", len(_MAGIC))
    try:
        header = json.loads(data[len(_MAGIC) : end])
    except ValueError as e:
        raise SnapshotError(f"{path}: unreadable header ({e})") from e
    if end < 0 or not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise SnapshotError(f"{path}: not snapshot format {_FORMAT}")
    return header, data[end + 1 :]


@dataclass
class SnapshotPlan:
    """What a host needs to snapshot its engine at a clean stop: the WAL, the records the engine had
    applied when the host got it (and the digest of the last), the digest of its configuration."""

    wal_dir: Path
    records: int
    last: str
    config: str

    def save(self, engine: OmsEngine, journal: JournaledEngine) -> Path:
        """Snapshot `engine`, which has since applied the records `journal` appended."""
        return write_snapshot_file(self.wal_dir, self.contents(engine, journal))

    def contents(self, engine: OmsEngine, journal: JournaledEngine) -> bytes:
        """The snapshot of `engine` as it is now (it has since applied the records `journal` appended)."""
        if journal.journaled and journal.last_payload is not None:
            last = record_digest(journal.last_ts, journal.last_payload)
        else:
            last = self.last
        return snapshot_bytes(engine, self.records + journal.journaled, last, self.config)


class PeriodicSnapshots:
    """Snapshots a running engine every `every` journaled records, so a crash replays at most about
    that many records at the next start, not everything since the last clean stop.

    The engine must not pause for the pickle: on a long session it holds up to `finished_memory`
    orders and pickling them can take over a second. So `maybe_save` forks, between two inputs, and the child
    (a copy-on-write image of the engine as it is then) pickles and writes the file at a lower
    priority and exits; the engine pauses only for the fork (`last_pause_ms`). The child touches
    nothing but the engine's objects and the snapshot file, never a lock another thread may hold.
    One child at a time; `poll()` reaps it (call it from the duty cycle), `wait()` before the final
    snapshot of a clean stop. A failed child is counted; the WAL is still the record."""

    def __init__(self, plan: SnapshotPlan, every: int, name: str = "oms") -> None:
        self.plan = plan
        self.every = every
        self.name = name
        self.saved = 0
        self.failed = 0
        self.last_pause_ms = 0.0  # how long the engine's thread stopped for the last snapshot (the fork)
        self._taken_at = 0  # journal.journaled at the last snapshot taken
        self._child = 0  # pid of the child writing a snapshot, 0 when none
        self._child_records = 0
        self._child_started = 0.0

    def due(self, journal: JournaledEngine) -> bool:
        return self.every > 0 and not self._child and journal.journaled - self._taken_at >= self.every

    def maybe_save(self, engine: OmsEngine, journal: JournaledEngine) -> bool:
        """Starts a snapshot when one is due (a child done since is reaped by `poll()` first); True when
        it did. Raises OSError if it cannot fork."""
        if not self.due(journal):
            return False
        started = time.perf_counter()
        with warnings.catch_warnings():  # "fork of a multi-threaded process": see the class doc
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: never returns
            _write_and_exit(self.plan, engine, journal)
        self.last_pause_ms = (time.perf_counter() - started) * 1e3
        self._child, self._child_started = pid, started
        self._child_records = self.plan.records + journal.journaled
        self._taken_at = journal.journaled
        return True

    def poll(self) -> None:
        """Reaps the child when it is done, and counts and logs how it went."""
        if self._child:
            pid, status = os.waitpid(self._child, os.WNOHANG)
            if pid:
                self._done(status)

    def wait(self, timeout_s: float = 60.0) -> None:
        """Lets the child in flight finish (killed, and counted as failed, after `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while self._child:
            self.poll()
            if self._child and time.monotonic() > deadline:
                os.kill(self._child, signal.SIGKILL)
                self._done(os.waitpid(self._child, 0)[1])
            elif self._child:
                time.sleep(0.01)

    def _done(self, status: int) -> None:
        code = os.waitstatus_to_exitcode(status)
        records, took = self._child_records, time.perf_counter() - self._child_started
        self._child = 0
        if code == 0:
            self.saved += 1
            log.info(
                "%s: engine snapshot at %d records saved in %.2f s (the engine paused %.1f ms for it)",
                self.name,
                records,
                took,
                self.last_pause_ms,
            )
        else:
            self.failed += 1
            why = f"exit code {code}" if code > 0 else f"signal {-code}"
            log.error("%s: the engine snapshot at %d records failed (%s)", self.name, records, why)


def _write_and_exit(plan: SnapshotPlan, engine: OmsEngine, journal: JournaledEngine) -> NoReturn:
    """The forked child's whole life: write the snapshot, exit without any clean-up of the parent's."""
    code = 1
    try:
        journal.writer.leave_lock_to_parent()  # or a killed oms could not restart until this child ends
        os.nice(10)  # the engine's process comes first
        # the records the snapshot claims must be durable before it is: after an OS crash a snapshot
        # ahead of the WAL would be refused and the whole WAL replayed (the parent flushed them)
        journal.writer.sync_written_unlocked()
        write_snapshot_file(plan.wal_dir, plan.contents(engine, journal))
        code = 0
    except BaseException as e:
        with contextlib.suppress(BaseException):
            os.write(2, f"engine snapshot: {type(e).__name__}: {e}\n".encode(errors="replace"))
    finally:
        os._exit(code)


@dataclass
class Resumed:
    """The engine a start resumes with, and how it got there."""

    engine: OmsEngine
    records: int  # WAL records the state has applied
    replayed: int  # of which replayed now (the rest came with the snapshot)
    last: str  # digest of the last record ("" when the WAL is empty)
    snapshot: str  # "used", or why not ("none", "written by another code version", ...)


def resume(
    wal_dir: str | Path,
    catalog: InstrumentCatalog,
    config: RiskConfig,
    outputs: OmsOutputs | None = None,
    fees: FeeSchedule | None = None,
    venue_ids: dict[str, int] | None = None,
    progress: Callable[[int], object] | None = None,
) -> Resumed:
    """The engine after every record of the WAL: from its snapshot plus the records after it when the
    snapshot is this WAL's, else by replaying the whole WAL. Raises WalDamageError as replay_wal.
    `progress(records replayed so far)` is called every PROGRESS_EVERY records replayed."""
    out = outputs if outputs is not None else OutputCollector()
    cfg = config_digest(catalog, config, fees, venue_ids)
    for stale in Path(wal_dir).glob(f"{SNAPSHOT_FILE}.*.tmp"):  # left by a writer that was killed
        stale.unlink(missing_ok=True)
    engine, skip, last, why = None, 0, "", "none"
    try:
        found = read_snapshot(wal_dir)
    except SnapshotError as e:
        found, why = None, str(e)
    if found is not None:
        header, blob = found
        if header.get("code") != code_digest():
            why = "written by another code version"
        elif header.get("config") != cfg:
            why = "made with another configuration"
        else:
            try:
                skip, last = int(header["records"]), str(header["last"])
                engine = pickle.loads(blob)
            except Exception as e:  # a damaged file: the WAL is still the record
                engine, skip, last, why = None, 0, "", f"unreadable ({type(e).__name__}: {e})"
            else:
                why = "used"
    if engine is not None:
        engine.out = out
        applied = _replay_onto(engine, wal_dir, skip, last, progress)
        if applied is not None:
            return Resumed(engine, applied[0], applied[0] - skip, applied[1], "used")
        why = "not this WAL's (its records differ)"
    engine = OmsEngine(catalog, config, out, fees=fees, venue_ids=venue_ids)
    replayed = _replay_onto(engine, wal_dir, 0, "", progress)
    assert replayed is not None  # with nothing to skip there is no record to match
    count, last = replayed
    return Resumed(engine, count, count, last, why)


def _replay_onto(
    engine: OmsEngine, wal_dir: str | Path, skip: int, last: str, progress: Callable[[int], object] | None
) -> tuple[int, str] | None:
    """Applies the WAL's records after the first `skip` to `engine`, whose state is the state after
    those, the last of which has digest `last`. Returns (records in the WAL, digest of the last one),
    or None when the WAL does not hold that record there (another WAL, or one cut short). Raises
    WalDamageError as replay_wal."""
    damage: list[Damage] = []
    count = 0
    record: tuple[int, bytes] | None = None  # the last one read: only its digest is kept
    for record in wal_records(wal_dir, damage):
        if count >= skip:
            engine.on_message(*record)
            if progress is not None and (count - skip) % PROGRESS_EVERY == PROGRESS_EVERY - 1:
                progress(count - skip + 1)
        elif count == skip - 1 and record_digest(*record) != last:
            return None  # not the record the snapshot ended with: another WAL
        count += 1
    if count < skip:
        return None
    check_replay_damage(wal_dir, damage, engine)
    if count > skip and record is not None:
        last = record_digest(*record)
    return count, last
