"""Engine snapshots: a start resumes from the snapshot of the last clean stop and replays only the
records after it, with the state and outputs of a full replay; anything that does not match (another
code version, configuration or WAL, a damaged file) replays the whole WAL instead, and says why."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from core.journal import FsyncPolicy
from core.oms.outputs import OutputCollector
from core.oms.snapshot import (
    PROGRESS_EVERY,
    SNAPSHOT_FILE,
    PeriodicSnapshots,
    Resumed,
    SnapshotPlan,
    config_digest,
    engine_sources,
    read_snapshot,
    resume,
)
from core.oms.wal import JournaledEngine, clock_tick, open_wal, replay_wal
from tests.core.oms.harness import CATALOG, VENUES, config, state_of
from tests.core.oms.test_wal import busy_session
from tests.desk import REPO_ROOT


def _session(wal: Path, inputs: list, cfg, *, clean_stop: bool = True) -> Resumed:
    """What the oms daemon does: open the WAL, resume from it, journal and apply `inputs`, and at a
    clean stop save the engine snapshot (a crash saves nothing)."""
    with open_wal(wal, "test", FsyncPolicy.never()) as writer:
        r = resume(wal, CATALOG, cfg, OutputCollector(), venue_ids=VENUES)
        plan = SnapshotPlan(wal, r.records, r.last, config_digest(CATALOG, cfg, None, VENUES))
        host = JournaledEngine(r.engine, writer)
        for ts, payload in inputs:
            host.on_message(ts, payload)
    if clean_stop:
        plan.save(r.engine, host)
    return r


@pytest.mark.parametrize("split", [0.05, 0.5, 0.95])
def test_resuming_from_a_snapshot_gives_the_state_and_outputs_of_a_full_replay(tmp_path: Path, split: float):
    d = busy_session()
    wal = tmp_path / "wal"
    k = int(len(d.inputs) * split)
    first = _session(wal, d.inputs[:k], d.config)
    assert first.snapshot == "none" and first.records == 0 and (wal / SNAPSHOT_FILE).exists()
    second = _session(wal, d.inputs[k:], d.config)
    assert second.snapshot == "used" and second.replayed == 0 and second.records > 0

    third = resume(wal, CATALOG, d.config, venue_ids=VENUES)
    assert third.snapshot == "used" and third.replayed == 0
    assert state_of(third.engine) == state_of(replay_wal(wal, CATALOG, d.config, venue_ids=VENUES))
    assert state_of(third.engine) == state_of(d.engine)

    # a crash after more inputs: the snapshot, then the records journaled after it
    tail = [(ts + 10**12, payload) for ts, payload in d.inputs[-6:]]
    _session(wal, tail, d.config, clean_stop=False)
    out = OutputCollector()
    after_crash = resume(wal, CATALOG, d.config, out, venue_ids=VENUES)
    full_out = OutputCollector()
    full = replay_wal(wal, CATALOG, d.config, full_out, venue_ids=VENUES)
    journaled_tail = after_crash.records - third.records
    assert after_crash.snapshot == "used" and after_crash.replayed == journaled_tail > 0
    assert state_of(after_crash.engine) == state_of(full)
    # the records replayed on top of the snapshot made the outputs the full replay made for them
    assert out.outputs and out.outputs == full_out.outputs[len(full_out.outputs) - len(out.outputs) :]


def _snapshotted(tmp_path: Path) -> tuple[Path, list, object]:
    d = busy_session()
    wal = tmp_path / "wal"
    _session(wal, d.inputs, d.config)
    return wal, d.inputs, d.config


def _edit_header(wal: Path, **changes: object) -> None:
    path = wal / SNAPSHOT_FILE
    data = path.read_bytes()
    first = data.index(b"\n") + 1
    end = data.index(b"\n", first)
    header = json.loads(data[first:end]) | changes
    path.write_bytes(data[:first] + json.dumps(header).encode() + data[end:])


def _truncate(path: Path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda wal: _edit_header(wal, code="0" * 64), "written by another code version"),
        (lambda wal: _edit_header(wal, last="0" * 64), "not this WAL's (its records differ)"),
        (lambda wal: _edit_header(wal, records=10**9), "not this WAL's (its records differ)"),
        (lambda wal: (wal / SNAPSHOT_FILE).write_bytes(b"junk"), "is not an oms snapshot"),
        (lambda wal: _edit_header(wal, format=99), "not snapshot format 1"),
        (lambda wal: _edit_header(wal, records="many"), "unreadable (ValueError"),
        (lambda wal: _truncate(wal / SNAPSHOT_FILE, 200), "unreadable"),
        (lambda wal: (wal / SNAPSHOT_FILE).unlink(), "none"),
    ],
)
def test_a_snapshot_that_does_not_match_replays_the_whole_wal_and_says_why(tmp_path: Path, damage, why):
    wal, _inputs, cfg = _snapshotted(tmp_path)
    damage(wal)
    r = resume(wal, CATALOG, cfg, venue_ids=VENUES)
    assert why in r.snapshot and r.replayed == r.records > 0
    assert state_of(r.engine) == state_of(replay_wal(wal, CATALOG, cfg, venue_ids=VENUES))


def test_a_snapshot_made_with_another_configuration_is_not_used(tmp_path: Path):
    wal, _inputs, cfg = _snapshotted(tmp_path)
    other = config({"price_band_bps": "299"})
    r = resume(wal, CATALOG, other, venue_ids=VENUES)
    assert r.snapshot == "made with another configuration" and r.replayed == r.records
    assert read_snapshot(wal) is not None  # left in place: the right configuration can still use it
    assert resume(wal, CATALOG, cfg, venue_ids=VENUES).snapshot == "used"


def test_a_long_replay_reports_its_progress(tmp_path: Path):
    wal, cfg = tmp_path / "wal", config()
    ticks = [(ts, clock_tick(ts)) for ts in range(10**15, 10**15 + 1_200 * 10**6, 10**6)]
    _session(wal, ticks, cfg, clean_stop=False)  # a crash: no snapshot, the whole WAL is replayed
    seen: list[int] = []
    r = resume(wal, CATALOG, cfg, venue_ids=VENUES, progress=seen.append)
    assert r.snapshot == "none" and r.records == len(ticks)
    assert seen == list(range(PROGRESS_EVERY, len(ticks) + 1, PROGRESS_EVERY))  # 512, 1024


def test_a_running_engine_snapshots_every_n_records_so_a_crash_replays_only_the_rest(tmp_path: Path):
    d = busy_session()
    wal, every = tmp_path / "wal", 7
    taken: list[int] = []
    with open_wal(wal, "test", FsyncPolicy.never()) as writer:
        r = resume(wal, CATALOG, d.config, OutputCollector(), venue_ids=VENUES)
        plan = SnapshotPlan(wal, r.records, r.last, config_digest(CATALOG, d.config, None, VENUES))
        periodic = PeriodicSnapshots(plan, every)
        host = JournaledEngine(r.engine, writer)
        for ts, payload in d.inputs:
            host.on_message(ts, payload)
            writer.flush()
            if periodic.maybe_save(r.engine, host):
                taken.append(host.journaled)
                periodic.wait()  # (the daemon goes on meanwhile; here each must land to be checked)
        journaled = host.journaled
    # a crash: no snapshot at the stop, only the periodic ones
    assert len(taken) == journaled // every > 1 and all(b - a == every for a, b in pairwise(taken))
    assert periodic.saved == len(taken) and periodic.failed == 0 and periodic.last_pause_ms > 0
    stale = wal / f"{SNAPSHOT_FILE}.999999.tmp"  # what a writer killed mid-write leaves
    stale.write_bytes(b"half a snapshot")
    resumed = resume(wal, CATALOG, d.config, venue_ids=VENUES)
    assert not stale.exists()
    assert resumed.snapshot == "used" and resumed.records == journaled
    assert resumed.replayed == journaled - taken[-1] < every
    assert state_of(resumed.engine) == state_of(replay_wal(wal, CATALOG, d.config, venue_ids=VENUES))
    assert state_of(resumed.engine) == state_of(d.engine)


def test_a_periodic_snapshot_that_cannot_be_written_is_counted_and_changes_nothing(tmp_path: Path):
    d = busy_session()
    wal = tmp_path / "wal"
    with open_wal(wal, "test", FsyncPolicy.never()) as writer:
        r = resume(wal, CATALOG, d.config, OutputCollector(), venue_ids=VENUES)
        missing = tmp_path / "missing"  # the snapshot cannot be written there
        plan = SnapshotPlan(missing, r.records, r.last, config_digest(CATALOG, d.config, None, VENUES))
        periodic = PeriodicSnapshots(plan, 5)
        host = JournaledEngine(r.engine, writer)
        for ts, payload in d.inputs:
            host.on_message(ts, payload)
            if periodic.maybe_save(r.engine, host):
                periodic.wait()
    assert periodic.failed > 0 and periodic.saved == 0 and not missing.exists()
    assert state_of(r.engine) == state_of(d.engine)
    assert resume(wal, CATALOG, d.config, venue_ids=VENUES).snapshot == "none"


def test_a_periodic_snapshot_makes_the_records_it_claims_durable_first(tmp_path: Path, monkeypatch):
    """The parent only writes the WAL to the OS before it forks; the child fdatasyncs it before the
    snapshot file exists, so after an OS crash the snapshot never claims records the WAL lost."""
    import os

    import core.journal.writer as writer_module

    d = busy_session()
    wal, calls = tmp_path / "wal", tmp_path / "fdatasync.log"
    real = writer_module.fdatasync

    def recording_fdatasync(fd: int) -> None:  # the child inherits it with the fork
        snapshot_there = (wal / SNAPSHOT_FILE).exists()
        with open(calls, "a") as f:
            f.write(f"{os.getpid()} {os.readlink(f'/proc/self/fd/{fd}')} {snapshot_there}\n")
        real(fd)

    monkeypatch.setattr(writer_module, "fdatasync", recording_fdatasync)
    policy = FsyncPolicy.batch(records=1_000_000)  # the parent itself never syncs a record here
    with open_wal(wal, "test", policy) as writer:
        r = resume(wal, CATALOG, d.config, OutputCollector(), venue_ids=VENUES)
        plan = SnapshotPlan(wal, r.records, r.last, config_digest(CATALOG, d.config, None, VENUES))
        periodic = PeriodicSnapshots(plan, 10)
        host = JournaledEngine(r.engine, writer)
        calls.write_text("")  # what opening the WAL synced is not the child's
        for ts, payload in d.inputs[:15]:
            host.on_message(ts, payload)
            writer.flush()
            if periodic.maybe_save(r.engine, host):
                periodic.wait()
        segment = os.readlink(f"/proc/self/fd/{writer._seg.fd}")
    assert periodic.saved == 1
    lines = [line.split() for line in calls.read_text().splitlines()]
    by_child = [(path, there) for pid, path, there in lines if int(pid) != os.getpid()]
    assert by_child == [(segment, "False")]


_PROBE = """
import pickle, sys
from pathlib import Path
from core.oms.snapshot import SNAPSHOT_FILE, SnapshotPlan, config_digest, resume
from core.oms.wal import JournaledEngine, open_wal
from core.journal import FsyncPolicy
wal, args = Path(sys.argv[1]), pickle.loads(Path(sys.argv[2]).read_bytes())
used = resume(wal, *args)  # from the snapshot: unpickles the engine, replays the rest
(wal / SNAPSHOT_FILE).unlink()
full = resume(wal, *args)  # the whole WAL
assert (used.snapshot, full.snapshot) == ("used", "none"), (used.snapshot, full.snapshot)
with open_wal(wal, "test", FsyncPolicy.never()) as writer:
    host = JournaledEngine(full.engine, writer)
plan = SnapshotPlan(wal, full.records, full.last, config_digest(args[0], args[1], None, args[4]))
plan.save(full.engine, host)
print("\\n".join(m.__file__ for n, m in sys.modules.items() if n.split(".")[0] == "core"))
"""


def test_the_code_digest_covers_every_core_module_the_snapshot_code_loads_and_nothing_else(tmp_path: Path):
    """The digest reads import statements; a fresh interpreter that resumes from a snapshot, replays a
    whole WAL and saves a snapshot says what really loads. A module the engine came to use without the
    digest covering it would let a snapshot outlive its code."""
    d = busy_session()
    wal = tmp_path / "wal"
    _session(wal, d.inputs, d.config)
    args = tmp_path / "args.pickle"
    args.write_bytes(pickle.dumps((CATALOG, d.config, None, None, VENUES)))
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(wal), str(args)], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert out.returncode == 0, out.stderr
    loaded = {Path(line).resolve() for line in out.stdout.split()}
    covered = set(engine_sources())
    assert loaded <= covered, sorted(str(p) for p in loaded - covered)
    core = REPO_ROOT / "core"
    assert core / "oms" / "engine.py" in covered and core / "risk" / "checks.py" in covered
    # code that neither builds nor replays the engine: an upgrade of it keeps the snapshots
    for elsewhere in ("supervisor", "daemons", "bus", "sim", "recorder"):
        assert not any((core / elsewhere) in p.parents for p in covered), elsewhere
