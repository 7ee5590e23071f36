"""Reopening a journal for append: check its last segment, cut what a crash left, say where to go on.

A torn tail (crash mid-write) is cut off and reported. Any other damage in the last segment refuses
the open (JournalCorruptError) unless `repair`: then the bytes from the damage on are first kept in
`NNNNNNNN.seg.damaged-<offset>`. A last segment whose header never got written is recreated.
"""

from __future__ import annotations

import logging
import os
import zlib
from dataclasses import dataclass, field

from core.journal.damage import Damage, DamageKind
from core.journal.errors import JournalCorruptError, JournalFormatError, JournalWriteError
from core.journal.files import copy_tail, unlink_quietly
from core.journal.format import SEGMENT_HEADER_LENGTH, SegmentHeader
from core.journal.loader import load_segment, read_segment_header
from core.journal.segments import SegmentFile

log = logging.getLogger(__name__)


@dataclass
class ResumePoint:
    """Where a reopened journal's writer carries on."""

    next_sequence: int
    segment: SegmentFile  # append here (header set) or create it afresh (header None)
    header: SegmentHeader | None = None
    entries: bytes = b""  # the index entries of the segment's good records
    good_end: int = SEGMENT_HEADER_LENGTH
    data_crc: int = 0  # crc32 of the segment's record bytes up to good_end
    recovered: list[Damage] = field(default_factory=list)


def resume_point(files: list[SegmentFile], *, schema_id: int, instance: str, repair: bool) -> ResumePoint:
    last = files[-1]
    header, _, header_damage = read_segment_header(last, is_last=True)
    if header is None:
        assert header_damage is not None
        return _replace_headless(files, header_damage, repair=repair)
    if header.schema_id != schema_id:
        raise JournalFormatError(
            last.path, f"journal has SBE schema id {header.schema_id}; this writer writes schema {schema_id}"
        )
    if header.instance != instance:
        raise JournalFormatError(
            last.path, f"journal belongs to instance {header.instance!r}, not {instance!r}"
        )
    segment = load_segment(last, is_last=True, verify=True, resume=False)
    try:
        point = ResumePoint(
            next_sequence=segment.next_sequence,
            segment=last,
            header=header,
            entries=segment.entries.tobytes(),
            good_end=segment.good_end,
        )
        losing = [d for d in segment.damage if d.loses_data]
        if losing:
            _cut(last, losing[0], segment.good_end, segment.size, repair=repair)
            point.recovered.append(losing[0])
        if segment.mm is not None:
            with memoryview(segment.mm) as view:
                point.data_crc = zlib.crc32(view[SEGMENT_HEADER_LENGTH : segment.good_end])
    finally:
        segment.close()
    return point


def _cut(file: SegmentFile, damage: Damage, good_end: int, size: int, *, repair: bool) -> None:
    if damage.kind is not DamageKind.TORN_TAIL and not repair:
        raise JournalCorruptError(
            damage,
            "the writer will not append after it; reopen with repair=True to keep the damaged bytes in "
            f"{file.damaged_copy_path(good_end).name} and continue after the last good record",
        )
    try:
        if damage.kind is not DamageKind.TORN_TAIL and size > good_end:
            copy_tail(file.path, file.damaged_copy_path(good_end), good_end)
        os.truncate(file.path, good_end)
    except OSError as e:
        raise JournalWriteError(file.path, "truncate damaged tail", e) from e
    log.warning("journal %s: cut %s at offset %d on reopen", file.directory, damage.kind, good_end)


def _replace_headless(files: list[SegmentFile], damage: Damage, *, repair: bool) -> ResumePoint:
    """The last segment has no usable header: it is recreated after the previous segment's records."""
    last = files[-1]
    if damage.kind is not DamageKind.TORN_TAIL and not repair:
        raise JournalCorruptError(damage, "reopen with repair=True to move the damaged segment aside")
    first_sequence = 0
    if len(files) > 1:
        previous = load_segment(files[-2], is_last=False, verify=True, resume=False)
        previous.close()
        first_sequence = previous.next_sequence
    try:
        if damage.kind is DamageKind.TORN_TAIL:
            last.path.unlink()
        else:
            last.path.rename(last.damaged_copy_path(0))
        unlink_quietly(last.index_path)
    except OSError as e:
        raise JournalWriteError(last.path, "replace damaged segment", e) from e
    return ResumePoint(next_sequence=first_sequence, segment=last, recovered=[damage])
