"""Journal exceptions: every one names the file and says what is wrong."""

from __future__ import annotations

import errno as errno_module
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.journal.damage import Damage


class JournalError(Exception):
    """Base of every journal error."""


class JournalNotFoundError(JournalError):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        super().__init__(f"no journal at {self.path}: directory does not exist")


class JournalFormatError(JournalError):
    """A file that is not a journal this code can read: bad magic, newer format version, wrong schema."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class JournalCorruptError(JournalError):
    """Damage that forbids the operation, e.g. reopening for append over a corrupt segment."""

    def __init__(self, damage: Damage, hint: str = "") -> None:
        self.damage = damage
        super().__init__(f"{damage}{'; ' + hint if hint else ''}")


class JournalLockedError(JournalError):
    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"journal {path} is already open for writing by another writer (lock {path / 'writer.lock'})"
        )


class BlockLayoutError(JournalError):
    """Records whose fixed block is shorter than the given dtype (e.g. written by an older schema version)."""


class JournalWriteError(JournalError):
    """An OS error while writing (disk full, file too large, permission denied, I/O error).

    The writer never leaves a half-written record that reads as valid. `record_appended` says whether
    the record of the failing call is in the journal's queue (True: buffered, retried on the next flush)
    or was refused (False: not journaled, its sequence number is not used); `sequence` is the queued
    record's sequence. `pending_records` counts records accepted but not yet durable (they are retried
    on the next flush, sync or close).
    """

    def __init__(
        self,
        path: Path,
        operation: str,
        error: OSError,
        *,
        record_appended: bool = False,
        pending_records: int = 0,
        sequence: int | None = None,
    ) -> None:
        self.path = path
        self.operation = operation
        self.errno = error.errno
        self.strerror = error.strerror or str(error)
        self.record_appended = record_appended
        self.pending_records = pending_records
        self.sequence = sequence
        code = errno_module.errorcode.get(error.errno or 0, "?")
        fate = "record queued for retry" if record_appended else "record not journaled"
        super().__init__(
            f"journal {path}: {operation} failed: {self.strerror} ({code}); {fate}; "
            f"{pending_records} record(s) not yet durable"
        )
