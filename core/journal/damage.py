"""Damage found while reading a journal: what, where, why, and what it cost."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class DamageKind(StrEnum):
    TORN_TAIL = "torn-tail"  # incomplete record(s) at the very end of the last segment: a crash mid-write
    CORRUPT = "corrupt"  # a record fails its checks and valid data follows, or it is in a non-last segment
    TRUNCATED = "truncated"  # a sealed segment holds fewer records than its seal recorded
    MISSING = "missing"  # a sequence gap between segments: a segment file or part of one is gone
    INDEX = "index"  # a sealed index side file failed its checks; records were verified from the segment


@dataclass(frozen=True, slots=True)
class Damage:
    kind: DamageKind
    segment: Path
    offset: int  # byte offset in the segment (index damage: 0)
    reason: str
    sequence: int | None = None  # sequence of the first record lost, when known
    records_lost: int | None = None  # when known (from a resync point, the next segment or the seal)
    resume_offset: int | None = None  # where a valid record was found again in the same segment

    @property
    def loses_data(self) -> bool:
        return self.kind is not DamageKind.INDEX

    def __str__(self) -> str:
        lost = "" if self.records_lost is None else f", {self.records_lost} record(s) lost"
        seq = "" if self.sequence is None else f", at sequence {self.sequence}"
        resume = (
            "" if self.resume_offset is None else f", valid records resume at offset {self.resume_offset}"
        )
        return f"{self.segment}: {self.kind} at offset {self.offset}: {self.reason}{seq}{lost}{resume}"

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": str(self.kind),
            "segment": str(self.segment),
            "offset": self.offset,
            "reason": self.reason,
            "sequence": self.sequence,
            "records_lost": self.records_lost,
            "resume_offset": self.resume_offset,
        }
