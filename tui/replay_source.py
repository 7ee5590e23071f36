"""ReplaySource: a recorded journal opened for the TUI's replay: its index in memory, its records on demand.

The index (receive time and stream of every readable record) is read once with numpy, so positions,
counts and the time range are known up front without a Python loop; the records themselves are read
lazily, in journal order, from the memory-mapped segments each time the replay (re)starts. A damaged
journal (a torn tail after a crash, a corrupt record) is read up to the damage, which is reported.

    source = open_journal(Path("~/.local/share/aerodesk/demo/20261122T203550.264065Z"))
    source.total, source.first_ns, source.last_ns, source.damage_text()
    for record in source.records(): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.codec.messages import SCHEMA_ID
from core.journal import Damage, JournalReader, Record
from core.journal.loader import read_segment_header
from core.journal.segments import SEGMENT_SUFFIX, is_journal_dir


class NotAJournalError(ValueError):
    """The path given is not a journal: a usage error, naming the path and what to give instead."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"{path}: {reason}")


def resolve_journal_path(path: Path) -> Path:
    """The journal directory of `path`: the directory itself, or the one holding a segment file.

    NotAJournalError if it is neither; OSError if it cannot be read.
    """
    path = path.expanduser()
    if not path.exists():
        raise NotAJournalError(path, "no such file or directory")
    if path.is_file():
        if path.suffix == SEGMENT_SUFFIX and is_journal_dir(path.parent):
            return path.parent
        raise NotAJournalError(
            path,
            "not a journal: give a journal directory as `aerodesk log ls` prints it, or a NNNNNNNN.seg in it",
        )
    if not is_journal_dir(path):
        raise NotAJournalError(
            path, "not a journal: the directory holds no segment files (NNNNNNNN.seg); see `aerodesk log ls`"
        )
    return path


@dataclass
class ReplaySource:
    path: Path
    reader: JournalReader
    times: np.ndarray  # receive time of every readable record, journal order (int64)
    streams: np.ndarray  # stream id of every readable record (int32)
    instance: str
    damage: list[Damage] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.times)

    @property
    def first_ns(self) -> int:
        return int(self.times.min()) if len(self.times) else 0

    @property
    def last_ns(self) -> int:
        return int(self.times.max()) if len(self.times) else 0

    @property
    def name(self) -> str:
        """How the journal is named on screen: <instance>/<recording start>."""
        return f"{self.path.parent.name}/{self.path.name}"

    def records(self, skip: int = 0) -> Iterator[Record]:
        """Every readable record in journal order, from record number `skip` (a fresh pass each call;
        the records before it are not read, and sealed segments are checksummed only once)."""
        return self.reader.records(skip=skip)

    def lossy_damage(self) -> list[Damage]:
        return [d for d in self.damage if d.loses_data]

    def damage_text(self) -> str:
        """One line for the screen ("" for an intact journal)."""
        lossy = self.lossy_damage()
        if not lossy:
            return ""
        d = lossy[0]
        lost = f", {d.records_lost} record(s) lost" if d.records_lost else ""
        more = f" (+{len(lossy) - 1} more)" if len(lossy) > 1 else ""
        return (
            f"DAMAGED journal: {d.kind} in {d.segment.name} at offset {d.offset}{lost}{more}; "
            f"replaying the {self.total} records before it"
        )


def open_journal(path: Path) -> ReplaySource:
    """Open a journal for replay. NotAJournalError (usage) or JournalError / OSError (unreadable)."""
    directory = resolve_journal_path(path)
    reader = JournalReader(directory, expected_schema_id=SCHEMA_ID, on_damage="stop")
    rows = reader.scan()
    times = np.ascontiguousarray(rows["receive_time_ns"], dtype=np.int64)
    streams = np.ascontiguousarray(rows["stream_id"], dtype=np.int32)
    info_instance = _instance(reader)
    return ReplaySource(
        path=directory,
        reader=reader,
        times=times,
        streams=streams,
        instance=info_instance or directory.parent.name,
        damage=reader.damage,
    )


def _instance(reader: JournalReader) -> str:
    """The desk instance named in the first readable segment header ("" if none is readable)."""
    files = reader.segment_files
    for i, file in enumerate(files):
        header, _size, _damage = read_segment_header(file, is_last=i == len(files) - 1)
        if header is not None:
            return header.instance
    return ""
