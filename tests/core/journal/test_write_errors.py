"""Disk full and permission errors surface as JournalWriteError, and never leave a record half-written."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from core.journal import JournalError, JournalReader, JournalWriter
from tests.core.journal.journal_helpers import INSTANCE, SCHEMA_ID, as_tuples, make_records, run_child

LIMIT = 24 * 1024  # RLIMIT_FSIZE of the child: no file may grow past this


def test_disk_full_every_record_refuses_the_record_and_keeps_the_journal_clean(tmp_path):
    path = tmp_path / "wal"
    result = run_child("disk_full", path, LIMIT, "every-record", 1 << 20)
    accepted = result["accepted"]
    assert accepted == list(range(len(accepted))) and len(accepted) > 50
    assert [e["at"] for e in result["errors"]] == [len(accepted)] * 3  # the same record, refused each time
    for error in result["errors"]:
        assert error["type"] == "JournalWriteError"
        assert error["errno"] == errno.EFBIG
        assert error["record_appended"] is False and error["pending"] == 0 and error["sequence"] is None
        assert "File too large" in error["message"] and "record not journaled" in error["message"]
    assert result["close_error"] is None
    assert result["stats"]["write_errors"] == 3
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(make_records(len(accepted)))
    assert reader.damage == []  # the partial write that hit the limit was cut off
    assert (path / "00000000.seg").stat().st_size <= LIMIT


def test_disk_full_batch_queues_then_refuses_and_reports_what_was_lost(tmp_path):
    path = tmp_path / "journal"
    result = run_child("disk_full", path, LIMIT, "batch:records=16", 4096)
    first, *later = result["errors"]
    # the append that completed a batch is queued; the batch of 16 could not be written
    assert first["errno"] == errno.EFBIG and first["record_appended"] is True and first["pending"] == 16
    assert first["sequence"] == first["at"]  # the queued record's sequence, though append raised
    durable = first["at"] + 1 - 16
    # once 4 KiB are queued behind the failing disk, new records are refused
    assert later and all(e["errno"] == errno.EFBIG and e["record_appended"] is False for e in later)
    assert result["accepted"] == list(range(later[0]["at"]))
    pending = len(result["accepted"]) - durable
    assert result["close_error"]["pending"] == pending > 16
    assert f"{pending} record(s) not yet durable" in result["close_error"]["message"]
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(make_records(durable))
    assert reader.damage == []


@pytest.fixture
def shared_tmp():
    """A temp directory an unprivileged child can use (pytest's own is private to the test user)."""
    base = Path(tempfile.mkdtemp(prefix="aerodesk-journal-"))
    base.chmod(0o777)
    (base / "readonly").mkdir(mode=0o555)
    (base / "readonly").chmod(0o555)
    try:
        yield base
    finally:
        (base / "readonly").chmod(0o755)
        shutil.rmtree(base)


def test_permission_errors(shared_tmp):
    result = run_child("no_permission", shared_tmp)
    assert result["uid"] != 0
    opened = result["open"]
    assert opened["type"] == "JournalWriteError" and opened["errno"] == errno.EACCES
    assert "Permission denied" in opened["message"]
    rolled = result["roll"]
    assert rolled["errno"] == errno.EACCES and rolled["operation"] == "create segment"
    assert rolled["record_appended"] is False
    written = result["written"]
    assert written == list(range(len(written))) and result["after_recovery"] == len(written) - 1
    reader = JournalReader(shared_tmp / "writable" / "journal")
    assert as_tuples(reader.records()) == as_tuples(make_records(len(written)))
    assert reader.damage == []


def test_closed_writer_refuses_appends(tmp_path):
    writer = JournalWriter(tmp_path / "j", schema_id=SCHEMA_ID, schema_version=1, instance=INSTANCE)
    writer.close()
    writer.close()  # idempotent
    with pytest.raises(JournalError, match="writer is closed"):
        writer.append(make_records(1)[0].payload, stream_id=1)


def test_bad_writer_arguments(tmp_path):
    with pytest.raises(ValueError, match="uint16"):
        JournalWriter(tmp_path / "j", schema_id=70000, schema_version=1, instance=INSTANCE)
    with pytest.raises(ValueError, match="instance name"):
        JournalWriter(tmp_path / "j", schema_id=1, schema_version=1, instance="x" * 65)
    with pytest.raises(ValueError, match="max_segment_bytes"):
        JournalWriter(tmp_path / "j", schema_id=1, schema_version=1, instance=INSTANCE, max_segment_bytes=100)
    assert not os.path.exists(tmp_path / "j")  # refused before touching the disk
