"""Child processes for journal tests: a writer that crashes, hits a file-size limit, or lacks permission.

Run as `python -m tests.core.journal.journal_child SCENARIO ARGS...`; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
from pathlib import Path

from core.journal import FsyncPolicy, JournalWriteError, JournalWriter
from tests.core.journal.journal_helpers import INSTANCE, SCHEMA_ID, SCHEMA_VERSION, make_records

NOBODY = 65534


def _writer(path: Path, policy: FsyncPolicy, max_segment_bytes: int = 16 * 1024) -> JournalWriter:
    return JournalWriter(
        path,
        schema_id=SCHEMA_ID,
        schema_version=SCHEMA_VERSION,
        instance=INSTANCE,
        fsync=policy,
        max_segment_bytes=max_segment_bytes,
    )


def _append(writer: JournalWriter, r) -> int:
    return writer.append(
        r.payload,
        stream_id=r.stream_id,
        receive_time_ns=r.receive_time_ns,
        session_id=r.session_id,
        position=r.position,
    )


def _error(e: JournalWriteError) -> dict:
    return {
        "type": type(e).__name__,
        "errno": e.errno,
        "operation": e.operation,
        "record_appended": e.record_appended,
        "pending": e.pending_records,
        "sequence": e.sequence,
        "message": str(e),
    }


def crash(path: str, n: str, max_segment_bytes: str, seed: str) -> None:
    """Append n records, write them to the OS, then die without closing: the last segment stays unsealed."""
    writer = _writer(Path(path), FsyncPolicy.never(), int(max_segment_bytes))
    for r in make_records(int(n), int(seed)):
        _append(writer, r)
    writer.flush()  # a process crash keeps what reached the OS; only the seal of the last segment is missing
    print(json.dumps({"next_sequence": writer.next_sequence, "segment": writer.segment_index}), flush=True)
    os._exit(0)


def group_kill(path: str, n: str) -> None:
    """Append n records under group commit, say so, then SIGKILL itself: no flush, no close, no fsync of
    its own. What append wrote to the OS must survive the process."""
    writer = _writer(Path(path), FsyncPolicy.group(interval_ms=60_000), 1 << 20)  # the thread never runs
    for r in make_records(int(n), 7):
        _append(writer, r)
    print(json.dumps({"next_sequence": writer.next_sequence}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def disk_full(path: str, limit: str, policy: str, max_pending_bytes: str) -> None:
    """Append until the file-size limit (RLIMIT_FSIZE) stops writes; report what the writer said."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed by the signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
    writer = JournalWriter(
        Path(path),
        schema_id=SCHEMA_ID,
        schema_version=SCHEMA_VERSION,
        instance=INSTANCE,
        fsync=FsyncPolicy.parse(policy),
        max_segment_bytes=1 << 20,
        max_pending_bytes=int(max_pending_bytes),
    )
    accepted, errors = [], []
    records = make_records(5000)
    i = 0
    while i < len(records) and len(errors) < 3:
        try:
            accepted.append(_append(writer, records[i]))
            i += 1
        except JournalWriteError as e:
            errors.append(_error(e) | {"at": i})
            if e.record_appended:  # queued: go on; refused: offer the same record again
                accepted.append(i)
                i += 1
    close_error = None
    try:
        writer.close()
    except JournalWriteError as e:
        close_error = _error(e)
    result = {"accepted": accepted, "errors": errors, "close_error": close_error, "stats": vars(writer.stats)}
    print(json.dumps(result), flush=True)


def no_permission(path: str) -> None:
    """As an unprivileged user: open in a read-only directory, then roll a segment into one."""
    if os.geteuid() == 0:
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    base = Path(path)
    result: dict = {"uid": os.geteuid()}
    readonly = base / "readonly"
    try:
        _writer(readonly / "journal", FsyncPolicy.every_record())
        result["open"] = None
    except JournalWriteError as e:
        result["open"] = _error(e)
    journal = base / "writable" / "journal"
    writer = _writer(journal, FsyncPolicy.every_record(), max_segment_bytes=4096)
    records = make_records(400)
    written = [_append(writer, records[0])]
    journal.chmod(0o555)  # the segment file stays writable, but the next roll cannot create its file
    result["roll"] = None
    for r in records[1:]:
        try:
            written.append(_append(writer, r))
        except JournalWriteError as e:
            result["roll"] = _error(e)
            break
    result["written"] = written
    journal.chmod(0o755)
    written.append(_append(writer, records[len(written)]))  # the writer carries on once it can
    result["after_recovery"] = written[-1]
    writer.close()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    scenario, *args = sys.argv[1:]
    scenarios = {"crash": crash, "group_kill": group_kill, "disk_full": disk_full}
    scenarios["no_permission"] = no_permission
    scenarios[scenario](*args)
