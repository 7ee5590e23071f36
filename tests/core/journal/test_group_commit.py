"""Group commit (fsync "group:interval_ms=T"): every append is written to the OS before it returns, a
background thread fsyncs what was written, nothing waits for the disk."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.journal import FsyncMode, FsyncPolicy, JournalReader, JournalWriter
from tests.core.journal.journal_helpers import INSTANCE, SCHEMA_ID, make_records
from tests.core.journal.test_fsync_policy import SyncLog

REPO_ROOT = Path(__file__).resolve().parents[3]
RECORDS = make_records(20)
HANG_GUARD_S = 30.0  # waiting for the background thread: a hang guard, not a performance limit


def _writer(path: Path, policy: FsyncPolicy) -> JournalWriter:
    return JournalWriter(path, schema_id=SCHEMA_ID, schema_version=1, instance=INSTANCE, fsync=policy)


def _append(writer: JournalWriter, i: int) -> int:
    return writer.append(RECORDS[i].payload, stream_id=RECORDS[i].stream_id, receive_time_ns=i)


def _visible(path: Path) -> int:
    return len(JournalReader(path).scan())


def _syncer_threads(path: Path) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"journal-sync-{path.name}"]


def test_every_append_is_visible_to_readers_before_it_returns_without_waiting_for_a_sync(
    tmp_path, monkeypatch
):
    syncs = SyncLog(monkeypatch)
    path = tmp_path / "wal"
    writer = _writer(path, FsyncPolicy.group(interval_ms=60_000))  # the background fsync stays out of it
    syncs.clear()
    for i in range(5):
        _append(writer, i)
        assert _visible(path) == i + 1
        assert writer.pending_records == 0
    assert syncs.of(".seg") == 0 and writer.stats.fsyncs == 0
    writer.close()
    assert syncs.of(".seg") == 1  # close makes it durable


def test_the_background_thread_fsyncs_what_was_written_and_nothing_more(tmp_path, monkeypatch):
    syncs = SyncLog(monkeypatch)
    path = tmp_path / "wal"
    writer = _writer(path, FsyncPolicy.group(interval_ms=1))
    syncs.clear()
    for i in range(3):
        _append(writer, i)
    syncer = writer._syncer
    assert syncer is not None
    # until a pass has synced all three: a writer descheduled between its appends (longer than the 1 ms
    # interval) gets a pass per append, so the count settles only then
    deadline = time.monotonic() + HANG_GUARD_S
    while syncer.synced != writer.stats.writes and time.monotonic() < deadline:
        time.sleep(0.005)
    assert writer.stats.fsyncs >= 1 and syncs.of(".seg") == writer.stats.fsyncs
    settled = writer.stats.fsyncs
    time.sleep(0.05)  # fifty intervals with nothing new written: no further fsync
    assert writer.stats.fsyncs == settled
    writer.close()


def test_an_idle_writers_thread_sleeps_until_the_next_write(tmp_path):
    """It used to wake every interval to find nothing written: CPU a whole idle desk pays for."""
    path = tmp_path / "wal"
    writer = _writer(path, FsyncPolicy.group(interval_ms=1))
    syncer = writer._syncer
    assert syncer is not None
    time.sleep(0.1)  # a hundred intervals with nothing written
    assert syncer.passes == 0 and writer.stats.fsyncs == 0
    _append(writer, 0)
    deadline = time.monotonic() + HANG_GUARD_S
    while writer.stats.fsyncs == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert writer.stats.fsyncs == 1
    settled = syncer.passes
    time.sleep(0.1)  # idle again: asleep again (at most the one pass that found the write synced)
    assert syncer.passes <= settled + 1 and writer.stats.fsyncs == 1
    writer.close()
    assert _syncer_threads(path) == [] and _visible(path) == 1


def test_close_during_a_pass_does_not_hang(tmp_path):
    """stop() sets the stop flag, then wakes the thread; a pass that clears the wake-up just after must
    still see the flag, or the thread sleeps for ever and close() with it."""
    path = tmp_path / "wal"
    writer = _writer(path, FsyncPolicy.group(interval_ms=1))
    syncer = writer._syncer
    assert syncer is not None
    entered = threading.Event()

    class ClearsAfterStop(threading.Event):
        def clear(self) -> None:
            entered.set()
            deadline = time.monotonic() + HANG_GUARD_S
            while not self.is_set() and time.monotonic() < deadline:  # until stop() has woken it
                time.sleep(0.001)
            super().clear()  # ... and eat that wake-up

    asleep = syncer.written
    syncer.written = ClearsAfterStop()
    asleep.set()  # one pass, which runs into the close
    assert entered.wait(HANG_GUARD_S)
    closer = threading.Thread(target=writer.close, daemon=True)
    closer.start()
    closer.join(HANG_GUARD_S)
    assert not closer.is_alive() and _syncer_threads(path) == []


def test_close_stops_the_thread_and_leaves_a_sealed_complete_journal(tmp_path):
    path = tmp_path / "wal"
    writer = _writer(path, FsyncPolicy.group())
    assert len(_syncer_threads(path)) == 1
    for i in range(10):
        _append(writer, i)
    writer.close()
    assert _syncer_threads(path) == []
    records = list(JournalReader(path).records())
    assert [bytes(r.payload) for r in records] == [bytes(r.payload) for r in RECORDS[:10]]


def test_segments_roll_under_group_commit_without_losing_records(tmp_path):
    path = tmp_path / "wal"
    writer = JournalWriter(
        path,
        schema_id=SCHEMA_ID,
        schema_version=1,
        instance=INSTANCE,
        fsync=FsyncPolicy.group(interval_ms=0.5),
        max_segment_bytes=4096,
    )
    for n in range(200):
        _append(writer, n % 20)
    assert writer.segment_index is not None and writer.segment_index > 1
    writer.close()
    assert _visible(path) == 200


def test_a_killed_process_loses_nothing_it_appended(tmp_path):
    path = tmp_path / "wal"
    child = subprocess.run(
        [sys.executable, "-m", "tests.core.journal.journal_child", "group_kill", str(path), "25"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -9, child.stderr
    said = json.loads(child.stdout.strip().splitlines()[-1])
    assert said["next_sequence"] == 25
    records = list(JournalReader(path).records())
    assert len(records) == 25
    assert [bytes(r.payload) for r in records] == [bytes(r.payload) for r in make_records(25, 7)]


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("group", FsyncPolicy(FsyncMode.GROUP, 0, 5_000_000)),
        ("group:interval_ms=2", FsyncPolicy(FsyncMode.GROUP, 0, 2_000_000)),
        ("group:interval_ms=0.5", FsyncPolicy(FsyncMode.GROUP, 0, 500_000)),
    ],
)
def test_group_policy_text_round_trips(text, policy):
    assert FsyncPolicy.parse(text) == policy
    assert FsyncPolicy.parse(str(policy)) == policy
    assert policy.syncs and policy.done_when_written


@pytest.mark.parametrize("text", ["group:", "group:interval_ms=0", "group:records=3", "group:interval_ms=x"])
def test_bad_group_policy_text_is_refused_clearly(text):
    with pytest.raises(ValueError, match="fsync policy"):
        FsyncPolicy.parse(text)


def test_a_failed_background_fsync_is_counted_and_retried(tmp_path, monkeypatch):
    import errno

    import core.journal.writer as writer_module

    real = writer_module.fdatasync
    failing = [False]

    def flaky(fd: int) -> None:
        if failing[0]:
            raise OSError(errno.EIO, "I/O error under test")
        real(fd)

    monkeypatch.setattr(writer_module, "fdatasync", flaky)
    path = tmp_path / "wal"
    writer = _writer(path, FsyncPolicy.group(interval_ms=1))
    failing[0] = True  # the disk fails after the segment was created
    _append(writer, 0)  # written to the OS all the same: append does not wait for the disk
    deadline = time.monotonic() + HANG_GUARD_S
    while writer.stats.fsync_errors == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert writer.stats.fsync_errors >= 1 and writer.stats.fsyncs == 0
    failing[0] = False  # the disk recovers: the same records are synced on a later pass
    while writer.stats.fsyncs == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert writer.stats.fsyncs >= 1
    # records written before the failure may be lost although a later sync succeeded: a snapshot taken
    # from this WAL must not claim them (core/oms/snapshot.py)
    with pytest.raises(OSError, match="fsync errors on this WAL"):
        writer.sync_written_unlocked()
    writer.close()
    assert _visible(path) == 1
