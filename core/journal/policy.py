"""When the writer makes records durable: never, in batches, or before every append returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FsyncMode(StrEnum):
    NEVER = "none"  # written to the OS when the buffer fills, on flush()/close(); never fsynced
    BATCH = "batch"  # written and fsynced every N records or T ms, whichever comes first
    EVERY_RECORD = "every-record"  # written and fsynced before append() returns (the oms WAL)


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
    def parse(cls, text: str) -> FsyncPolicy:
        """From config text: 'none', 'every-record' or 'batch:records=N,interval_ms=T' (one bound may go)."""
        text = text.strip()
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
            f"unknown fsync policy {text!r}: use 'none', 'every-record' or "
            "'batch:records=N,interval_ms=T' (either bound may be left out)"
        )

    @property
    def syncs(self) -> bool:
        return self.mode is not FsyncMode.NEVER

    def __str__(self) -> str:
        if self.mode is not FsyncMode.BATCH:
            return str(self.mode)
        bounds = []
        if self.records:
            bounds.append(f"records={self.records}")
        if self.interval_ns:
            bounds.append(f"interval_ms={self.interval_ns / 1_000_000:g}")
        return "batch:" + ",".join(bounds)
