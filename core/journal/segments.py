"""Segment files of a journal directory: naming, listing, the index side file path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SEGMENT_SUFFIX = ".seg"
INDEX_SUFFIX = ".idx"
LOCK_FILE = "writer.lock"
_SEGMENT_NAME = re.compile(r"^(\d{8})\.seg$")


@dataclass(frozen=True, slots=True)
class SegmentFile:
    directory: Path
    number: int

    @property
    def path(self) -> Path:
        return self.directory / f"{self.number:08d}{SEGMENT_SUFFIX}"

    @property
    def index_path(self) -> Path:
        return self.directory / f"{self.number:08d}{INDEX_SUFFIX}"

    def damaged_copy_path(self, offset: int) -> Path:
        return self.directory / f"{self.number:08d}{SEGMENT_SUFFIX}.damaged-{offset}"


def list_segments(directory: Path) -> list[SegmentFile]:
    """Segments in number order; other files (indexes, locks, damaged copies) are ignored."""
    numbers = sorted(int(m.group(1)) for p in directory.iterdir() if (m := _SEGMENT_NAME.match(p.name)))
    return [SegmentFile(directory, n) for n in numbers]


def is_journal_dir(directory: Path) -> bool:
    return directory.is_dir() and any(_SEGMENT_NAME.match(p.name) for p in directory.iterdir())
