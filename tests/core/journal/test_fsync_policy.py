"""The fsync policy, observed on real files: which syncs happen when, and what another reader sees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.journal import FsyncMode, FsyncPolicy, JournalReader, JournalWriter
from tests.core.journal.journal_helpers import INSTANCE, SCHEMA_ID, make_records


class SyncLog:
    """Wraps the real os.fsync/os.fdatasync and records the file each call was for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, Path]] = []
        for name in ("fsync", "fdatasync"):
            real = getattr(os, name)
            monkeypatch.setattr(os, name, self._wrap(name, real))

    def _wrap(self, name, real):
        def call(fd: int) -> None:
            self.calls.append((name, Path(os.readlink(f"/proc/self/fd/{fd}"))))
            real(fd)

        return call

    def of(self, suffix: str) -> int:
        return sum(1 for _, p in self.calls if p.suffix == suffix)

    def clear(self) -> None:
        self.calls.clear()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now


def _writer(path, policy, **kw):
    return JournalWriter(path, schema_id=SCHEMA_ID, schema_version=1, instance=INSTANCE, fsync=policy, **kw)


def _visible(path) -> int:
    """Records another process would read now."""
    return len(JournalReader(path).scan())


RECORDS = make_records(20)


def _append(writer, i):
    return writer.append(RECORDS[i].payload, stream_id=RECORDS[i].stream_id, receive_time_ns=i)


def test_every_record_syncs_before_append_returns(tmp_path, monkeypatch):
    syncs = SyncLog(monkeypatch)
    path = tmp_path / "wal"
    writer = _writer(path, FsyncPolicy.every_record())
    assert syncs.of(".seg") == 1  # the new segment's header
    syncs.clear()
    for i in range(5):
        _append(writer, i)
        assert syncs.of(".seg") == i + 1  # one data sync per record, before append returned
        assert _visible(path) == i + 1
    assert writer.stats.fsyncs == 5
    writer.close()
    assert syncs.of(".idx") >= 1  # the seal is made durable on close


def test_batch_by_record_count(tmp_path, monkeypatch):
    syncs = SyncLog(monkeypatch)
    path = tmp_path / "journal"
    writer = _writer(path, FsyncPolicy.batch(records=3))
    syncs.clear()
    _append(writer, 0)
    _append(writer, 1)
    assert syncs.of(".seg") == 0 and _visible(path) == 0 and writer.pending_records == 2
    _append(writer, 2)
    assert syncs.of(".seg") == 1 and _visible(path) == 3 and writer.pending_records == 0
    for i in range(3, 8):
        _append(writer, i)
    assert syncs.of(".seg") == 2 and _visible(path) == 6 and writer.pending_records == 2
    writer.close()
    assert syncs.of(".seg") == 3 and _visible(path) == 8


def test_batch_by_time_is_honoured_by_do_work(tmp_path, monkeypatch):
    syncs = SyncLog(monkeypatch)
    clock = FakeClock()
    path = tmp_path / "journal"
    writer = _writer(path, FsyncPolicy.batch(interval_ms=50), monotonic_clock=clock)
    syncs.clear()
    _append(writer, 0)
    clock.now += 30_000_000
    _append(writer, 1)
    assert writer.do_work() == 0 and syncs.of(".seg") == 0 and _visible(path) == 0
    clock.now += 19_999_999  # 49.999999 ms after the first record
    assert writer.do_work() == 0 and syncs.of(".seg") == 0
    clock.now += 1
    assert writer.do_work() == 1 and syncs.of(".seg") == 1 and _visible(path) == 2
    assert writer.do_work() == 0  # nothing pending
    clock.now += 10_000_000
    _append(writer, 2)
    clock.now += 50_000_000
    _append(writer, 3)  # an append past the bound syncs too
    assert syncs.of(".seg") == 2 and _visible(path) == 4
    writer.close()


def test_none_never_syncs_and_writes_when_the_buffer_fills(tmp_path, monkeypatch):
    syncs = SyncLog(monkeypatch)
    path = tmp_path / "journal"
    size = len(RECORDS[0].payload) + 48
    writer = _writer(path, FsyncPolicy.never(), buffer_bytes=3 * size, flush_interval_ms=1e9)
    _append(writer, 0)
    assert _visible(path) == 0
    for i in range(1, 20):
        _append(writer, i)
    assert 0 < _visible(path) < 20  # written in buffer-sized batches
    writer.flush()
    assert _visible(path) == 20
    writer.close()
    assert syncs.calls == []
    assert writer.stats.fsyncs == 0


def test_none_writes_old_buffered_records_on_do_work(tmp_path):
    clock = FakeClock()
    path = tmp_path / "journal"
    writer = _writer(path, FsyncPolicy.never(), flush_interval_ms=10, monotonic_clock=clock)
    _append(writer, 0)
    assert writer.do_work() == 0 and _visible(path) == 0
    clock.now += 10_000_000
    assert writer.do_work() == 1 and _visible(path) == 1
    writer.close()


def test_explicit_sync_syncs_whatever_the_policy(tmp_path, monkeypatch):
    syncs = SyncLog(monkeypatch)
    path = tmp_path / "journal"
    writer = _writer(path, FsyncPolicy.never())
    _append(writer, 0)
    writer.sync()
    assert syncs.of(".seg") == 1 and _visible(path) == 1
    writer.close()


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("none", FsyncPolicy(FsyncMode.NEVER)),
        ("every-record", FsyncPolicy(FsyncMode.EVERY_RECORD)),
        ("batch:records=100", FsyncPolicy(FsyncMode.BATCH, 100, 0)),
        ("batch:interval_ms=5", FsyncPolicy(FsyncMode.BATCH, 0, 5_000_000)),
        ("batch:records=10,interval_ms=2.5", FsyncPolicy(FsyncMode.BATCH, 10, 2_500_000)),
    ],
)
def test_policy_text_round_trips(text, policy):
    assert FsyncPolicy.parse(text) == policy
    assert FsyncPolicy.parse(str(policy)) == policy


@pytest.mark.parametrize("text", ["always", "batch:", "batch:records=0", "batch:records=x", "batch:ms=5", ""])
def test_bad_policy_text_is_refused_clearly(text):
    with pytest.raises(ValueError, match=r"fsync policy|records must be"):
        FsyncPolicy.parse(text)
