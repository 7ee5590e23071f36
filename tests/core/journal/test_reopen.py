"""Reopening a journal for append: the oms restarting its WAL continues the sequence."""

from __future__ import annotations

import os
import shutil
import warnings

import pytest

from core.journal import (
    DamageKind,
    FsyncPolicy,
    JournalCorruptError,
    JournalFormatError,
    JournalLockedError,
    JournalReader,
    JournalWriter,
)
from core.journal.format import SEGMENT_HEADER_LENGTH, decode_segment_header
from tests.core.journal.journal_helpers import (
    INSTANCE,
    SCHEMA_ID,
    SCHEMA_VERSION,
    as_tuples,
    crash_write,
    make_records,
    write_records,
)


def _writer(path, **kw):
    args = {"schema_id": SCHEMA_ID, "schema_version": SCHEMA_VERSION, "instance": INSTANCE} | kw
    return JournalWriter(path, **args)


def _append_all(writer, records):
    for r in records:
        seq = writer.append(
            r.payload,
            stream_id=r.stream_id,
            receive_time_ns=r.receive_time_ns,
            session_id=r.session_id,
            position=r.position,
        )
        assert seq == r.sequence


def test_reopen_after_close_continues_the_sequence(tmp_path):
    path = tmp_path / "wal"
    records = make_records(500)
    write_records(path, records[:300], max_segment_bytes=8192)
    segments_before = len(list(path.glob("*.seg")))
    with _writer(path, max_segment_bytes=8192) as writer:
        assert writer.next_sequence == 300
        assert writer.recovered == []
        assert writer.segment_index == segments_before - 1  # appends go on in the last segment
        _append_all(writer, records[300:])
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(records)
    assert reader.damage == []


def test_reopen_after_a_crash_continues_the_sequence(tmp_path):
    path = tmp_path / "wal"
    records = make_records(400)
    crash_write(path, 250, max_segment_bytes=8192)  # writes make_records(250): the same first 250
    with _writer(path, max_segment_bytes=8192) as writer:
        assert writer.next_sequence == 250 and writer.recovered == []
        _append_all(writer, records[250:])
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(records)
    assert reader.damage == []


def test_reopen_cuts_a_torn_tail_and_reports_it(tmp_path):
    path = tmp_path / "wal"
    records = make_records(120)
    crash_write(path, 100, max_segment_bytes=8192)
    last = sorted(path.glob("*.seg"))[-1]
    last_offset = int(JournalReader(path).scan()["offset"][-1])
    os.truncate(last, last_offset + 21)  # record 99 torn mid-header
    with _writer(path, max_segment_bytes=8192) as writer:
        [torn] = writer.recovered
        assert (torn.kind, torn.segment, torn.offset, torn.sequence) == (
            DamageKind.TORN_TAIL,
            last,
            last_offset,
            99,
        )
        assert writer.next_sequence == 99
        _append_all(writer, records[99:])
    assert os.path.getsize(last) >= last_offset  # the cut happened in place; appends went on after it
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(records)
    assert reader.damage == []


def test_reopen_refuses_a_corrupt_segment_unless_repairing(tmp_path):
    path = tmp_path / "wal"
    records = make_records(150)
    crash_write(path, 100, max_segment_bytes=64 * 1024)
    rows = JournalReader(path).scan()
    segment = path / "00000000.seg"
    bad = int(rows["offset"][50])
    size = os.path.getsize(segment)
    with open(segment, "r+b") as f:
        f.seek(bad + 44)
        f.write(b"\xff")
    with pytest.raises(JournalCorruptError, match=r"corrupt at offset \d+.*repair=True") as refused:
        _writer(path)
    assert refused.value.damage.sequence == 50
    assert os.path.getsize(segment) == size  # nothing was touched
    with _writer(path, repair=True) as writer:
        [damage] = writer.recovered
        assert damage.kind is DamageKind.CORRUPT and writer.next_sequence == 50
        _append_all(writer, records[50:])
    kept = path / f"00000000.seg.damaged-{bad}"
    assert kept.stat().st_size == size - bad  # the damaged bytes are kept aside, not lost
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(records)
    assert reader.damage == []


def test_reopen_after_a_crash_while_creating_a_segment(tmp_path):
    path = tmp_path / "wal"
    records = make_records(200)
    write_records(path, records[:120], max_segment_bytes=8192)
    last = sorted(path.glob("*.seg"))[-1]
    number = int(last.stem) + 1
    (path / f"{number:08d}.seg").write_bytes(b"\x89ADJ\r\n")  # header half written when the process died
    with _writer(path, max_segment_bytes=8192) as writer:
        [torn] = writer.recovered
        assert torn.kind is DamageKind.TORN_TAIL and "header incomplete" in torn.reason
        assert writer.next_sequence == 120 and writer.segment_index == number
        _append_all(writer, records[120:])
    assert as_tuples(JournalReader(path).records()) == as_tuples(records)


def test_reopen_over_a_damaged_last_segment_header_needs_repair(tmp_path):
    path = tmp_path / "wal"
    records = make_records(200)
    write_records(path, records[:150], max_segment_bytes=8192)
    rows = JournalReader(path).scan()
    last_number = int(rows["segment"][-1])
    kept_records = int((rows["segment"] < last_number).sum())
    last = path / f"{last_number:08d}.seg"
    with open(last, "r+b") as f:
        f.seek(30)
        f.write(b"\x00\x01")  # created-at bytes: the header checksum fails
    with pytest.raises(JournalCorruptError, match=r"header checksum mismatch.*repair=True"):
        _writer(path, max_segment_bytes=8192)
    with _writer(path, max_segment_bytes=8192, repair=True) as writer:
        assert writer.recovered[0].offset == 0
        assert writer.next_sequence == kept_records  # continues after the previous segment
        _append_all(writer, records[kept_records:])
    assert (path / f"{last_number:08d}.seg.damaged-0").exists()
    assert as_tuples(JournalReader(path).records()) == as_tuples(records)


def test_new_schema_version_starts_a_new_segment(tmp_path):
    path = tmp_path / "wal"
    records = make_records(60)
    write_records(path, records[:30])
    with _writer(path, schema_version=SCHEMA_VERSION + 1) as writer:
        assert writer.next_sequence == 30
        _append_all(writer, records[30:])
    segments = sorted(path.glob("*.seg"))
    versions = [
        decode_segment_header(p.read_bytes()[:SEGMENT_HEADER_LENGTH], p).schema_version for p in segments
    ]
    assert versions == [SCHEMA_VERSION, SCHEMA_VERSION + 1]
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(records)
    assert reader.info().schema_versions == (SCHEMA_VERSION, SCHEMA_VERSION + 1)


def test_reopen_with_another_schema_or_instance_is_refused(tmp_path):
    path = tmp_path / "wal"
    write_records(path, make_records(5))
    with pytest.raises(JournalFormatError, match="schema id 7001; this writer writes schema 42"):
        _writer(path, schema_id=42)
    with pytest.raises(JournalFormatError, match="instance 'test', not 'other'"):
        _writer(path, instance="other")


def test_one_writer_at_a_time(tmp_path):
    path = tmp_path / "wal"
    with _writer(path, fsync=FsyncPolicy.never()) as first:
        with pytest.raises(JournalLockedError, match="already open for writing"):
            _writer(path)
        first.append(make_records(1)[0].payload, stream_id=1)
    with _writer(path) as second:  # released on close
        assert second.next_sequence == 1


@pytest.mark.parametrize("left_to_parent", [True, False])
def test_a_forked_child_that_outlives_the_writer_holds_the_lock_only_unless_it_left_it(
    tmp_path, left_to_parent
):
    """An oms forks snapshot children; killed, its restart must not find the WAL locked by one of them.
    (The writer's close here stands for the parent's death: both close its lock descriptor.)"""
    path = tmp_path / "wal"
    first = _writer(path, fsync=FsyncPolicy.never())
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    with warnings.catch_warnings():  # a multi-threaded test process: the child only does system calls
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: (maybe) leave the lock, say so, wait to be told to exit
        try:
            if left_to_parent:
                first.leave_lock_to_parent()
            os.write(ready_w, b"x")
            os.read(done_r, 1)
        finally:
            os._exit(0)
    try:
        assert os.read(ready_r, 1) == b"x"
        first.close()
        if left_to_parent:
            with _writer(path) as second:  # the child lives on, and the journal is free
                assert second.next_sequence == 0
        else:
            with pytest.raises(JournalLockedError):
                _writer(path)
    finally:
        os.write(done_w, b"x")
        os.waitpid(pid, 0)
        for fd in (ready_r, ready_w, done_r, done_w):
            os.close(fd)


def test_journal_directory_copy_reads_the_same(tmp_path):
    # a journal is self-contained: copying the directory (e.g. off a desk host) keeps it readable
    path = tmp_path / "wal"
    records = make_records(80)
    write_records(path, records, max_segment_bytes=4096)
    shutil.copytree(path, tmp_path / "copy")
    assert as_tuples(JournalReader(tmp_path / "copy").records()) == as_tuples(records)
