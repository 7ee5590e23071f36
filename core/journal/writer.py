"""JournalWriter: the single writer of a journal directory.

Records are framed (crc32 over the whole frame) into an in-process buffer and written with pwrite at
known offsets, so a failed or partial write is cut off (ftruncate back to the last good end) and
rewritten, never left behind as a record that could read as valid. The fsync policy decides when
buffered records reach the OS and the disk (core.journal.policy). Index entries are written once their
records are as durable as the policy promises; the index is a cache that readers check before use.

Reopening a journal continues it: a torn tail (crash mid-write) of the last segment is truncated and
reported in `recovered`; other damage in the last segment refuses the open (JournalCorruptError)
unless `repair=True`, which keeps the damaged bytes in a side file before truncating.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.journal.damage import Damage
from core.journal.errors import (
    JournalError,
    JournalLockedError,
    JournalWriteError,
)
from core.journal.files import fdatasync, fsync_dir, pwrite_all, unlink_quietly
from core.journal.format import (
    CRC_FIELD,
    FRAME_BODY,
    FRAME_HEADER_LENGTH,
    INDEX_ENTRY_HEAD,
    INDEX_ENTRY_LENGTH,
    INDEX_HEADER_LENGTH,
    MAX_SEGMENT_BYTES,
    MIN_FRAME_LENGTH,
    SBE_HEADER_LENGTH,
    SEGMENT_HEADER_LENGTH,
    IndexHeader,
    SegmentHeader,
    encode_instance,
)
from core.journal.policy import FsyncMode, FsyncPolicy
from core.journal.recovery import resume_point
from core.journal.segments import LOCK_FILE, SegmentFile, list_segments

log = logging.getLogger(__name__)

DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
_PADDING = bytes(8)


@dataclass
class WriterStats:
    appends: int = 0
    bytes_appended: int = 0
    writes: int = 0  # pwrite batches of the data file
    fsyncs: int = 0  # fdatasync calls that made records durable
    fsync_errors: int = 0  # group commit: background fdatasync calls that failed
    segments_created: int = 0
    write_errors: int = 0  # JournalWriteErrors raised
    index_errors: int = 0  # index side-file failures (the segment stays unsealed; readers verify it)


@dataclass
class _Segment:
    file: SegmentFile
    first_sequence: int
    fd: int
    index_fd: int | None


class JournalWriter:
    def __init__(
        self,
        path: Path | str,
        *,
        schema_id: int,
        schema_version: int,
        instance: str,
        fsync: FsyncPolicy | None = None,
        max_segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        buffer_bytes: int = 1 << 20,
        flush_interval_ms: float = 100.0,
        retry_interval_ms: float = 100.0,
        max_pending_bytes: int = 64 << 20,
        repair: bool = False,
        wall_clock: Callable[[], int] = time.time_ns,
        monotonic_clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        """Create or reopen the journal at `path` (a directory) for appending.

        fsync: default every-record (durable before append returns). buffer_bytes: buffered bytes
        written to the OS once exceeded. flush_interval_ms: with fsync none, buffered records older
        than this are written on the next append/do_work. retry_interval_ms: after a write error,
        automatic flushes pause this long (explicit flush/sync/close always try). max_pending_bytes:
        after a write error, appends are refused once this much is queued.
        """
        if not (0 <= schema_id <= 0xFFFF and 0 <= schema_version <= 0xFFFF):
            raise ValueError(f"schema id and version must be uint16, got {schema_id}, {schema_version}")
        encode_instance(instance)
        smallest = SEGMENT_HEADER_LENGTH + MIN_FRAME_LENGTH
        if not smallest <= max_segment_bytes <= MAX_SEGMENT_BYTES:
            raise ValueError(
                f"max_segment_bytes must be in {smallest}..{MAX_SEGMENT_BYTES}, got {max_segment_bytes}"
            )
        self.path = Path(path)
        self.schema_id = schema_id
        self.schema_version = schema_version
        self.instance = instance
        self.policy = fsync or FsyncPolicy.every_record()
        self.max_segment_bytes = max_segment_bytes
        self.buffer_bytes = buffer_bytes
        self.flush_interval_ns = int(flush_interval_ms * 1_000_000)
        self.retry_interval_ns = int(retry_interval_ms * 1_000_000)
        self.max_pending_bytes = max_pending_bytes
        self._mode = self.policy.mode
        self._max_frame = max_segment_bytes - SEGMENT_HEADER_LENGTH
        self.stats = WriterStats()
        self.recovered: list[Damage] = []  # damage found and repaired when the journal was reopened
        self.last_error: JournalWriteError | None = None
        self._wall_clock = wall_clock
        self._monotonic_clock = monotonic_clock

        self._seg: _Segment | None = None
        self._durable_end = 0  # data-file bytes as durable as the policy promises
        self._buf = bytearray()  # frames after _durable_end, not yet durable
        self._buf_written = 0  # bytes of _buf already written to the OS
        self._buf_records = 0
        self._ibuf = bytearray()  # index entries of records not yet durable
        self._index_end = INDEX_HEADER_LENGTH
        self._index_ok = False
        self._record_count = 0  # records in the current segment, buffered ones included
        self._data_crc = 0  # running crc32 of the current segment's durable frames (for the seal)
        self._entries_crc = 0  # running crc32 of its index entries
        self._next_sequence = 0
        self._oldest_pending_ns: int | None = None
        self._tail_dirty = False  # bytes past _durable_end may remain from a failed write
        self._retry_at_ns = 0
        self._closed = False
        self._op = "open"  # the operation under way, named in JournalWriteError
        self._last_number: int | None = None  # highest segment number in the directory
        self._repair_allowed = repair
        self._lock_fd: int | None = None
        # Group commit: a background thread fsyncs what append wrote (see _GroupSyncer). The lock keeps
        # it from syncing a descriptor the writer is closing.
        self._fd_lock = threading.Lock()
        self._syncer: _GroupSyncer | None = None

        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise JournalWriteError(self.path, "open journal directory", e) from e
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise JournalLockedError(self.path) from None
        try:
            files = list_segments(self.path)
            if files:
                self._reopen(files)
            else:
                self._guard(lambda: self._open_new_segment(0, 0), "create segment", record_appended=False)
        except BaseException:
            self._close_files()
            raise
        if self._mode is FsyncMode.GROUP:
            self._syncer = _GroupSyncer(self, self.policy.interval_ns)

    # --- public ---------------------------------------------------------------------------------

    @property
    def next_sequence(self) -> int:
        return self._next_sequence

    @property
    def segment_index(self) -> int | None:
        return None if self._seg is None else self._seg.file.number

    @property
    def pending_records(self) -> int:
        """Records accepted but not yet as durable as the policy promises."""
        return self._buf_records

    @property
    def closed(self) -> bool:
        return self._closed

    def append(
        self,
        payload: bytes | bytearray | memoryview,
        *,
        stream_id: int,
        receive_time_ns: int | None = None,
        session_id: int = 0,
        position: int = 0,
    ) -> int:
        """Journal one SBE message; returns its sequence number.

        With fsync every-record the record is on disk when this returns. Raises JournalWriteError on
        OS errors (see its `record_appended`), ValueError on a record that cannot be framed.
        """
        if self._closed:
            raise JournalError(f"journal {self.path}: writer is closed")
        length = len(payload)
        if length < SBE_HEADER_LENGTH:
            raise ValueError(
                f"payload of {length} bytes is not an SBE message: it needs the 8-byte message header"
            )
        size = (FRAME_HEADER_LENGTH + length + 7) & ~7  # frame_length(), inlined: this is the hot path
        if size > self._max_frame:
            raise ValueError(
                f"record of {size} bytes does not fit a segment of {self.max_segment_bytes} bytes"
            )
        now = self._monotonic_clock()
        if self.last_error is not None and len(self._buf) + size > self.max_pending_bytes:
            self._flush_or_raise(record_appended=False, fsync=self.policy.syncs)
        if self._seg is None:
            self._guard(self._open_next_segment, "create segment", record_appended=False)
        elif self._durable_end + len(self._buf) + size > self.max_segment_bytes and self._record_count:
            self._roll()
        receive_ns = self._wall_clock() if receive_time_ns is None else receive_time_ns
        sequence = self._next_sequence
        buf = self._buf
        start = len(buf)
        try:
            body = FRAME_BODY.pack(length, sequence, receive_ns, position, stream_id, session_id)
        except struct.error as e:
            raise ValueError(
                f"record fields out of range ({e}): receive_time_ns={receive_ns}, position={position}, "
                f"stream_id={stream_id}, session_id={session_id}"
            ) from None
        body = body + payload + _PADDING[: size - FRAME_HEADER_LENGTH - length]
        ibuf = self._ibuf
        ibuf += INDEX_ENTRY_HEAD.pack(receive_ns, self._durable_end + start, length, stream_id, session_id)
        ibuf += payload[:SBE_HEADER_LENGTH]  # the entry ends with the message's own SBE header
        buf += CRC_FIELD.pack(zlib.crc32(body))
        buf += body
        self._record_count += 1
        self._next_sequence += 1
        self._buf_records += 1
        self.stats.appends += 1
        self.stats.bytes_appended += length
        if self._oldest_pending_ns is None:
            self._oldest_pending_ns = now
        mode = self._mode
        if mode is FsyncMode.EVERY_RECORD:
            try:
                self._flush(fsync=True)
            except OSError as e:
                # refuse this record: take it back out so the journal is exactly as before the call
                del buf[start:], self._ibuf[-INDEX_ENTRY_LENGTH:]
                self._record_count -= 1
                self._next_sequence -= 1
                self._buf_records -= 1
                self._oldest_pending_ns = None
                self.stats.appends -= 1
                self.stats.bytes_appended -= length
                raise self._error(e, record_appended=False) from e
        elif mode is FsyncMode.GROUP and now >= self._retry_at_ns:
            self._flush_or_raise(record_appended=True, fsync=False, sequence=sequence)
        elif now >= self._retry_at_ns:
            if mode is FsyncMode.BATCH and self._batch_due(now):
                self._flush_or_raise(record_appended=True, fsync=True, sequence=sequence)
            elif len(buf) - self._buf_written >= self.buffer_bytes or (
                mode is FsyncMode.NEVER and now - self._oldest_pending_ns >= self.flush_interval_ns
            ):
                self._flush_or_raise(record_appended=True, fsync=False, sequence=sequence)
        return sequence

    def do_work(self) -> int:
        """Honour the policy's time bound when no appends come; call it from the owner's duty cycle."""
        if self._closed or self._buf_records == 0:
            return 0
        now = self._monotonic_clock()
        if now < self._retry_at_ns or self._oldest_pending_ns is None:
            return 0
        if self.policy.mode is FsyncMode.BATCH and self._batch_due(now):
            self._flush_or_raise(record_appended=True, fsync=True)
            return 1
        if (
            self.policy.mode is FsyncMode.NEVER and now - self._oldest_pending_ns >= self.flush_interval_ns
        ) or self.policy.mode is FsyncMode.GROUP:  # group: records a failed write left behind
            self._flush_or_raise(record_appended=True, fsync=False)
            return 1
        return 0

    def flush(self) -> None:
        """Write buffered records to the OS (visible to readers; durable only after an fsync)."""
        if not self._closed:
            self._flush_or_raise(record_appended=True, fsync=False)

    def sync(self) -> None:
        """Write buffered records and fsync them, whatever the policy."""
        if not self._closed:
            self._flush_or_raise(record_appended=True, fsync=True)

    def leave_lock_to_parent(self) -> None:
        """In a process forked from the writer's: close this process's copy of the lock descriptor.
        An flock belongs to the open file description, which a fork shares: a child that outlived its
        parent (killed) would hold the journal locked, and the writer's restart would be refused. The
        parent's own descriptor keeps the lock while it lives."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)

    def sync_written_unlocked(self) -> None:
        """fdatasync what has been written to the OS in the current segment (earlier segments were
        made durable when they rolled), unless the policy never syncs. It takes no lock and touches no
        buffer, so a process forked from the writer's may call it (another thread may have held a
        lock at the fork). Raises OSError, also once a background fsync has failed: the records
        written before it may be lost even if this sync succeeds."""
        if self.stats.fsync_errors:  # the kernel may have dropped pages it failed to write, silently
            lost = f"{self.stats.fsync_errors} fsync errors on this WAL: records may be lost"
            raise OSError(errno.EIO, lost)
        seg = self._seg
        if seg is not None and not self._closed and self.policy.syncs:
            fdatasync(seg.fd)

    def close(self) -> None:
        """Make everything durable (per policy), seal the segment and release the journal.

        Raises JournalWriteError if buffered records could not be written; they are then lost.
        """
        if self._closed:
            return
        if self._syncer is not None:
            self._syncer.stop()  # the final fsync below is the close's own
        error: JournalWriteError | None = None
        try:
            if self._seg is not None:
                self._flush_or_raise(record_appended=True, fsync=self.policy.syncs)
                self._seal()
        except JournalWriteError as e:
            error = e
        finally:
            self._closed = True
            self._close_files()
        if error is not None:
            raise error

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- buffering and durability -------------------------------------------------------------

    @property
    def _end(self) -> int:
        return self._durable_end + len(self._buf)

    def _batch_due(self, now: int) -> bool:
        p = self.policy
        if p.records and self._buf_records >= p.records:
            return True
        return bool(
            p.interval_ns
            and self._oldest_pending_ns is not None
            and now - self._oldest_pending_ns >= p.interval_ns
        )

    def _flush(self, *, fsync: bool) -> None:
        """Write the unwritten part of the buffer (and fsync); raises OSError with the file cut back."""
        seg = self._seg
        if seg is None:
            return
        self._op = "write"
        try:
            if self._buf_written < len(self._buf):
                written = self._buf_written
                pwrite_all(seg.fd, self._buf, self._durable_end + written, written)
                self._buf_written = len(self._buf)
                self.stats.writes += 1
                syncer = self._syncer
                if syncer is not None and not syncer.written.is_set():
                    syncer.written.set()
            if self._tail_dirty:
                self._op = "truncate"
                os.ftruncate(seg.fd, self._end)
                self._tail_dirty = False
            if fsync:
                self._op = "fsync"
                fdatasync(seg.fd)
                self.stats.fsyncs += 1
        except OSError:
            # whatever reached the file past the durable end is cut off and rewritten from the buffer
            self._buf_written = 0
            try:
                os.ftruncate(seg.fd, self._durable_end)
            except OSError:
                self._tail_dirty = True
            raise
        if fsync or self.policy.done_when_written:
            self._data_crc = zlib.crc32(self._buf, self._data_crc)
            self._durable_end += len(self._buf)
            self._buf.clear()
            self._buf_written = 0
            self._buf_records = 0
            self._oldest_pending_ns = None
            self.last_error = None
            self._retry_at_ns = 0
            self._write_index_entries()

    def _flush_or_raise(self, *, record_appended: bool, fsync: bool, sequence: int | None = None) -> None:
        try:
            self._flush(fsync=fsync)
        except OSError as e:
            self._retry_at_ns = self._monotonic_clock() + self.retry_interval_ns
            raise self._error(e, record_appended=record_appended, sequence=sequence) from e

    def _error(self, e: OSError, *, record_appended: bool, sequence: int | None = None) -> JournalWriteError:
        path = self._seg.file.path if self._seg is not None else self.path
        error = JournalWriteError(
            path,
            self._op,
            e,
            record_appended=record_appended,
            pending_records=self._buf_records,
            sequence=sequence,
        )
        self.stats.write_errors += 1
        self.last_error = error
        log.warning("%s", error)
        return error

    def _guard(self, action: Callable[[], None], operation: str, *, record_appended: bool) -> None:
        self._op = operation
        try:
            action()
        except OSError as e:
            raise self._error(e, record_appended=record_appended) from e

    def _write_index_entries(self) -> None:
        seg = self._seg
        if not self._ibuf or seg is None:
            return
        self._entries_crc = zlib.crc32(self._ibuf, self._entries_crc)
        if self._index_ok and seg.index_fd is not None:
            try:
                pwrite_all(seg.index_fd, self._ibuf, self._index_end)
                self._index_end += len(self._ibuf)
            except OSError as e:
                self._index_failed(e)
        self._ibuf.clear()

    def _index_failed(self, e: OSError) -> None:
        self._index_ok = False
        self.stats.index_errors += 1
        log.warning("journal %s: index write failed (%s); the segment stays unsealed", self.path, e)

    # --- segments -----------------------------------------------------------------------------

    def _roll(self) -> None:
        """Close the full segment (durable, sealed) and start the next one."""
        self._flush_or_raise(record_appended=False, fsync=self.policy.syncs)
        self._seal()
        self._close_segment()
        self._guard(self._open_next_segment, "create segment", record_appended=False)

    def _open_next_segment(self) -> None:
        number = 0 if self._last_number is None else self._last_number + 1
        self._open_new_segment(number, self._next_sequence)

    def _seal(self) -> None:
        seg = self._seg
        if seg is None or seg.index_fd is None or not self._index_ok or self._tail_dirty or self._buf:
            return
        header = IndexHeader(
            segment_index=seg.file.number,
            first_sequence=seg.first_sequence,
            sealed=True,
            record_count=self._record_count,
            data_length=self._durable_end,
            data_crc=self._data_crc,
            entries_crc=self._entries_crc,
        )
        try:
            if self.policy.syncs:
                os.fsync(seg.index_fd)  # entries on disk before the header vouches for them
            pwrite_all(seg.index_fd, header.encode(), 0)
            if self.policy.syncs:
                os.fsync(seg.index_fd)
        except OSError as e:
            self._index_failed(e)

    def _open_new_segment(self, number: int, first_sequence: int) -> None:
        file = SegmentFile(self.path, number)
        header = SegmentHeader(
            schema_id=self.schema_id,
            schema_version=self.schema_version,
            segment_index=number,
            created_at_ns=self._wall_clock(),
            first_sequence=first_sequence,
            instance=self.instance,
        )
        fd = os.open(file.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            pwrite_all(fd, header.encode(), 0)
            if self.policy.syncs:
                fdatasync(fd)
        except OSError:
            os.close(fd)
            unlink_quietly(file.path)  # a half-made segment would read as a torn tail
            raise
        self._seg = _Segment(file, first_sequence, fd, None)
        self._last_number = number
        self._start_segment_state(SEGMENT_HEADER_LENGTH, 0, 0, 0)
        self._open_index(file, first_sequence, b"")
        if self.policy.syncs:
            fsync_dir(self.path)
        self.stats.segments_created += 1

    def _open_index(self, file: SegmentFile, first_sequence: int, entries: bytes) -> None:
        assert self._seg is not None
        try:
            index_fd = os.open(file.index_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as e:
            self._index_failed(e)
            return
        self._seg.index_fd = index_fd
        try:
            pwrite_all(index_fd, IndexHeader(file.number, first_sequence).encode() + entries, 0)
            self._index_end = INDEX_HEADER_LENGTH + len(entries)
            self._index_ok = True
        except OSError as e:
            self._index_failed(e)

    def _start_segment_state(self, end: int, record_count: int, data_crc: int, entries_crc: int) -> None:
        self._durable_end = end
        self._buf.clear()
        self._buf_written = 0
        self._ibuf.clear()
        self._record_count = record_count
        self._data_crc = data_crc
        self._entries_crc = entries_crc
        self._index_ok = False
        self._index_end = INDEX_HEADER_LENGTH
        self._tail_dirty = False

    def _close_segment(self) -> None:
        with self._fd_lock:
            seg, self._seg = self._seg, None
            if seg is not None:
                for fd in (seg.fd, seg.index_fd):
                    if fd is not None:
                        os.close(fd)

    def _close_files(self) -> None:
        self._close_segment()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    # --- reopening ----------------------------------------------------------------------------

    def _reopen(self, files: list[SegmentFile]) -> None:
        point = resume_point(
            files, schema_id=self.schema_id, instance=self.instance, repair=self._repair_allowed
        )
        self.recovered = point.recovered
        self._next_sequence = point.next_sequence
        self._last_number = files[-1].number
        if point.header is None:  # the last segment is recreated
            number = point.segment.number
            self._guard(
                lambda: self._open_new_segment(number, point.next_sequence),
                "create segment",
                record_appended=False,
            )
            return
        try:
            fd = os.open(point.segment.path, os.O_RDWR)
        except OSError as e:
            raise JournalWriteError(point.segment.path, "reopen segment", e) from e
        first_sequence = point.header.first_sequence
        self._seg = _Segment(point.segment, first_sequence, fd, None)
        record_count = len(point.entries) // INDEX_ENTRY_LENGTH
        self._start_segment_state(point.good_end, record_count, point.data_crc, zlib.crc32(point.entries))
        self._open_index(point.segment, first_sequence, point.entries)
        if point.header.schema_version != self.schema_version:
            self._seal()  # a new schema version starts a new segment, whose header states it
            self._close_segment()
            self._guard(self._open_next_segment, "create segment", record_appended=False)


class _GroupSyncer:
    """The group-commit thread of a JournalWriter: after the writer writes (it sets `written`), it waits
    `interval_ns` for more to gather, then one fdatasync of the current segment makes all of it durable
    at once. An idle writer's syncer sleeps until the next write: it does not wake every interval. A
    roll fsyncs the old segment itself (policy.syncs) before closing it, under the same lock.

    `written` is cleared before the writer's `stats.writes` is read (an int read under the GIL), so a
    write is either seen by this pass or sets `written` again for the next one: none is left unsynced.
    """

    def __init__(self, writer: JournalWriter, interval_ns: int) -> None:
        self.writer = writer
        self.interval_s = interval_ns / 1e9
        self.synced = 0  # the writer's stats.writes at the last successful sync
        self.passes = 0  # times it woke to sync (tests: an idle writer's syncer stays asleep)
        self.written = threading.Event()  # set by the writer when it has written since the last pass
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"journal-sync-{writer.path.name}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        writer = self.writer
        while True:
            self.written.wait()
            if self._stop.wait(self.interval_s):
                return  # the close's own fsync covers what is left
            self.passes += 1
            self.written.clear()
            if self._stop.is_set():  # stop() set it before `written`: the clear may have eaten its wake-up
                return
            written = writer.stats.writes
            if written == self.synced:
                continue
            with writer._fd_lock:
                seg = writer._seg
                if seg is None:
                    continue
                try:
                    fdatasync(seg.fd)
                except OSError as e:
                    self.written.set()  # retried at the next pass
                    writer.stats.fsync_errors += 1
                    n = writer.stats.fsync_errors
                    if n & (n - 1) == 0:  # the 1st, 2nd, 4th, 8th ... failure: a failing disk, not a flood
                        log.error(
                            "journal %s: group-commit fsync failed: %s (%d so far; retrying)",
                            writer.path,
                            e,
                            n,
                        )
                    continue
            writer.stats.fsyncs += 1
            self.synced = written

    def stop(self) -> None:
        self._stop.set()
        self.written.set()  # wakes it if it sleeps until a write
        self._thread.join()
