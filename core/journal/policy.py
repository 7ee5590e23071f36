"""When the writer makes records durable: never, in batches, by group commit, or before every append
returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FsyncMode(StrEnum):
    NEVER = "none"  # written to the OS when the buffer fills, on flush()/close(); never fsynced
    BATCH = "batch"  # written and fsynced every N records or T ms, whichever comes first
    EVERY_RECORD = "every-record"  # written and fsynced before append() returns
    # Group commit: written to the OS before append() returns (a crash of the process loses nothing),
    # fsynced by a background thread at most interval_ms after it was written (an OS crash or power
    # loss loses at most that window plus one fsync). No append waits for the disk.
    GROUP = "group"


DEFAULT_GROUP_INTERVAL_MS = 5.0


@dataclass(frozen=True, slots=True)
class FsyncPolicy:
    mode: FsyncMode
    records: int = 0  # batch: fsync when this many records are pending (0: no count bound)
    interval_ns: int = 0  # batch: fsync when the oldest pending record is this old (0: no time bound)

    @classmethod
    def never(cls) -> FsyncPolicy:
        return cls(FsyncMode.NEVER)

    @classmethod
    def every_record(cls) -> FsyncPolicy:
        return cls(FsyncMode.EVERY_RECORD)

    @classmethod
    def batch(cls, records: int | None = None, interval_ms: float | None = None) -> FsyncPolicy:
        if records is None and interval_ms is None:
            raise ValueError("a batch fsync policy needs records=N, interval_ms=T or both")
        if records is not None and records < 1:
            raise ValueError(f"batch records must be >= 1, got {records}")
        if interval_ms is not None and interval_ms <= 0:
            raise ValueError(f"batch interval_ms must be > 0, got {interval_ms}")
        return cls(FsyncMode.BATCH, records or 0, int((interval_ms or 0) * 1_000_000))

    @classmethod
    def group(cls, interval_ms: float = DEFAULT_GROUP_INTERVAL_MS) -> FsyncPolicy:
        if interval_ms <= 0:
            raise ValueError(f"group interval_ms must be > 0, got {interval_ms}")
        return cls(FsyncMode.GROUP, 0, int(interval_ms * 1_000_000))

    @classmethod
    def parse(cls, text: str) -> FsyncPolicy:
        """From config text: 'none', 'every-record', 'batch:records=N,interval_ms=T' (one bound may go),
        'group' or 'group:interval_ms=T'."""
        text = text.strip()
        if text == FsyncMode.GROUP:
            return cls.group()
        if text.startswith("group:"):
            key, _, value = text.removeprefix("group:").partition("=")
            if key.strip() == "interval_ms" and value.strip():
                try:
                    return cls.group(float(value))
                except ValueError as e:
                    raise ValueError(f"bad fsync policy {text!r}: {e}") from e
        if text == FsyncMode.NEVER:
            return cls.never()
        if text == FsyncMode.EVERY_RECORD:
            return cls.every_record()
        if text.startswith("batch:"):
            bounds: dict[str, str] = {}
            for part in text.removeprefix("batch:").split(","):
                key, _, value = part.partition("=")
                if key.strip() not in ("records", "interval_ms") or key.strip() in bounds or not value:
                    bounds = {}
                    break
                bounds[key.strip()] = value.strip()
            if bounds:
                try:
                    return cls.batch(
                        records=int(bounds["records"]) if "records" in bounds else None,
                        interval_ms=float(bounds["interval_ms"]) if "interval_ms" in bounds else None,
                    )
                except ValueError as e:
                    raise ValueError(f"bad fsync policy {text!r}: {e}") from e
        raise ValueError(
            f"unknown fsync policy {text!r}: use 'none', 'every-record', "
            "'batch:records=N,interval_ms=T' (either bound may be left out) or 'group:interval_ms=T'"
        )

    @property
    def syncs(self) -> bool:
        return self.mode is not FsyncMode.NEVER

    @property
    def done_when_written(self) -> bool:
        """Whether a record is as durable as the policy promises once it is written to the OS (the rest,
        for group commit, is the background fsync's)."""
        return self.mode is FsyncMode.NEVER or self.mode is FsyncMode.GROUP

    def __str__(self) -> str:
        if self.mode is FsyncMode.GROUP:
            return f"group:interval_ms={self.interval_ns / 1_000_000:g}"
        if self.mode is not FsyncMode.BATCH:
            return str(self.mode)
        bounds = []
        if self.records:
            bounds.append(f"records={self.records}")
        if self.interval_ns:
            bounds.append(f"interval_ms={self.interval_ns / 1_000_000:g}")
        return "batch:" + ",".join(bounds)
