"""Open one segment: trust its sealed index after checking it, or verify it record by record.

A segment sealed by its writer carries, in the index header, the record count, the data length and
crc32s of the record bytes and of the index entries. When all of them match (the data crc only with
`verify=True`), the index is used as is: numpy arrays, no per-record Python work. Otherwise (active or
crashed writer, damage) every frame is verified (core.journal.verify) and the index rebuilt in memory.
"""

from __future__ import annotations

import mmap
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.journal.damage import Damage, DamageKind
from core.journal.format import (
    ENTRY_DTYPE,
    INDEX_ENTRY_LENGTH,
    INDEX_HEADER_LENGTH,
    SEGMENT_HEADER_LENGTH,
    IndexHeader,
    SegmentHeader,
    SegmentHeaderChecksumError,
    decode_index_header,
    decode_segment_header,
)
from core.journal.segments import SegmentFile
from core.journal.verify import walk_frames


@dataclass
class LoadedSegment:
    file: SegmentFile
    header: SegmentHeader | None  # None when the header itself is damaged or incomplete
    size: int
    entries: np.ndarray  # ENTRY_DTYPE, the readable records in order
    sequences: np.ndarray | None  # uint64 per entry; None: consecutive from the header's first sequence
    good_end: int  # end of the readable prefix (before the first data-losing damage)
    next_sequence: int  # sequence after the readable prefix
    damage: list[Damage] = field(default_factory=list)
    from_sealed_index: bool = False
    seal: IndexHeader | None = None
    mm: mmap.mmap | None = None

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def first_sequence(self) -> int | None:
        return None if self.header is None else self.header.first_sequence

    def sequences_at(self, rows: np.ndarray) -> np.ndarray:
        """Sequences of the given entry rows."""
        if self.sequences is None:
            return rows.astype(np.uint64) + np.uint64(self.first_sequence or 0)
        return self.sequences[rows]

    def sequence_range(self) -> tuple[int, int] | None:
        """(first, last) sequence of the readable records, None when there are none."""
        if len(self.entries) == 0:
            return None
        if self.sequences is None:
            first = self.first_sequence or 0
            return first, first + len(self.entries) - 1
        return int(self.sequences[0]), int(self.sequences[-1])

    def close(self) -> None:
        if self.mm is not None:
            self.mm.close()
            self.mm = None


def _empty(file: SegmentFile, header: SegmentHeader | None, size: int, damage: list[Damage]) -> LoadedSegment:
    first = 0 if header is None else header.first_sequence
    return LoadedSegment(
        file=file,
        header=header,
        size=size,
        entries=np.empty(0, ENTRY_DTYPE),
        sequences=np.empty(0, np.uint64),
        good_end=min(size, SEGMENT_HEADER_LENGTH) if header is None else SEGMENT_HEADER_LENGTH,
        next_sequence=first,
        damage=damage,
    )


def read_segment_header(
    file: SegmentFile, *, is_last: bool
) -> tuple[SegmentHeader | None, int, Damage | None]:
    """(header, file size, damage). Raises JournalFormatError for files this code cannot read."""
    with open(file.path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        raw = f.read(SEGMENT_HEADER_LENGTH)
    tail_kind = DamageKind.TORN_TAIL if is_last else DamageKind.CORRUPT
    if size < SEGMENT_HEADER_LENGTH:
        reason = f"segment header incomplete: {size} of {SEGMENT_HEADER_LENGTH} bytes"
        return None, size, Damage(tail_kind, file.path, 0, reason)
    if raw == bytes(SEGMENT_HEADER_LENGTH):
        reason = "segment header never written (all zero bytes)"
        return None, size, Damage(tail_kind, file.path, 0, reason)
    try:
        header = decode_segment_header(raw, file.path)
    except SegmentHeaderChecksumError as e:
        return None, size, Damage(DamageKind.CORRUPT, file.path, 0, str(e))
    if header.segment_index != file.number:
        reason = f"segment header says index {header.segment_index}, file name says {file.number}"
        return None, size, Damage(DamageKind.CORRUPT, file.path, 0, reason)
    return header, size, None


_NO_ENTRIES = np.empty(0, np.uint8)


def _read_seal(file: SegmentFile, header: SegmentHeader) -> tuple[IndexHeader | None, np.ndarray, str | None]:
    """(sealed index header, entry bytes, why the index is unusable)."""
    try:
        with open(file.index_path, "rb") as f:
            decoded = decode_index_header(f.read(INDEX_HEADER_LENGTH))
            if isinstance(decoded, str):
                return None, _NO_ENTRIES, decoded
            if (
                decoded.segment_index != header.segment_index
                or decoded.first_sequence != header.first_sequence
            ):
                return None, _NO_ENTRIES, "index header belongs to another segment"
            if not decoded.sealed:
                return None, _NO_ENTRIES, "index not sealed (the writer did not close this segment)"
            entries = np.empty(os.fstat(f.fileno()).st_size - INDEX_HEADER_LENGTH, np.uint8)
            f.readinto(memoryview(entries))
    except FileNotFoundError:
        return None, _NO_ENTRIES, "index file missing"
    return decoded, entries, None


def load_segment(file: SegmentFile, *, is_last: bool, verify: bool, resume: bool) -> LoadedSegment:
    """Open, check and index one segment. `resume`: read on past damage at resync points."""
    header, size, header_damage = read_segment_header(file, is_last=is_last)
    if header is None:
        return _empty(file, None, size, [header_damage] if header_damage else [])
    if size == SEGMENT_HEADER_LENGTH:
        seg = _empty(file, header, size, [])
        seal, _, _ = _read_seal(file, header)
        if seal is not None and seal.record_count > 0:
            seg.damage.append(_truncated(file, seal, 0, SEGMENT_HEADER_LENGTH, header.first_sequence))
        return seg
    with open(file.path, "rb") as f:
        mm = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ)
    seal, entry_bytes, seal_problem = _read_seal(file, header)
    seg = LoadedSegment(
        file=file,
        header=header,
        size=size,
        entries=np.empty(0, ENTRY_DTYPE),
        sequences=np.empty(0, np.uint64),
        good_end=SEGMENT_HEADER_LENGTH,
        next_sequence=header.first_sequence,
        seal=seal,
        mm=mm,
    )
    if seal is not None:
        seal_problem = _check_seal(mm, size, seal, entry_bytes, verify=verify)
        if seal_problem is None:
            seg.entries = entry_bytes.view(ENTRY_DTYPE)
            seg.sequences = None
            seg.good_end = size
            seg.next_sequence = header.first_sequence + seal.record_count
            seg.from_sealed_index = True
            return seg
    _walk(seg, is_last=is_last, resume=resume)
    if seal is not None and not any(d.loses_data for d in seg.damage):
        if len(seg.entries) < seal.record_count:
            seg.damage.append(_truncated(file, seal, len(seg.entries), seg.good_end, seg.next_sequence))
        elif seal_problem is not None:
            seg.damage.append(
                Damage(DamageKind.INDEX, file.path, 0, f"{seal_problem}; records verified from the segment")
            )
    elif seal is None and not is_last:
        seg.damage.append(
            Damage(DamageKind.INDEX, file.path, 0, f"{seal_problem}; records verified from the segment")
        )
    return seg


def _check_seal(
    mm: mmap.mmap, size: int, seal: IndexHeader, entry_bytes: np.ndarray, *, verify: bool
) -> str | None:
    if seal.data_length != size:
        return f"sealed data length {seal.data_length} but the segment has {size} bytes"
    if len(entry_bytes) != seal.record_count * INDEX_ENTRY_LENGTH:
        held = len(entry_bytes)
        return f"sealed with {seal.record_count} index entries but the index holds {held} bytes of entries"
    if zlib.crc32(entry_bytes) != seal.entries_crc:
        return "index entries checksum mismatch"
    if verify:
        with memoryview(mm) as mv:
            if zlib.crc32(mv[SEGMENT_HEADER_LENGTH:size]) != seal.data_crc:
                return "segment data checksum mismatch"
    return None


def _truncated(file: SegmentFile, seal: IndexHeader, readable: int, offset: int, sequence: int) -> Damage:
    return Damage(
        DamageKind.TRUNCATED,
        file.path,
        offset,
        f"segment was sealed with {seal.record_count} records ({seal.data_length} bytes) "
        f"but only {readable} are readable",
        sequence=sequence,
        records_lost=seal.record_count - readable,
    )


def _walk(seg: LoadedSegment, *, is_last: bool, resume: bool) -> None:
    assert seg.mm is not None and seg.header is not None
    with memoryview(seg.mm) as mv:
        walked = walk_frames(mv, SEGMENT_HEADER_LENGTH, seg.size, seg.header.first_sequence, resume=resume)
    seg.entries = walked.entries
    seg.sequences = walked.sequences
    seg.good_end = walked.good_end
    seg.next_sequence = walked.next_sequence
    for bad in walked.bad:
        if bad.resume_offset is not None:
            kind = DamageKind.CORRUPT
            lost: int | None = (bad.resume_sequence or 0) - bad.sequence
        elif is_last and seg.seal is None:
            kind, lost = DamageKind.TORN_TAIL, None  # nothing valid follows: a crash mid-write
        elif seg.seal is not None:
            # the writer sealed this segment complete: it was cut short or changed afterwards
            kind = DamageKind.TRUNCATED if seg.size < seg.seal.data_length else DamageKind.CORRUPT
            lost = max(0, seg.header.first_sequence + seg.seal.record_count - bad.sequence)
        else:
            kind, lost = DamageKind.CORRUPT, None  # filled in from the next segment by the reader
        seg.damage.append(
            Damage(
                kind,
                seg.file.path,
                bad.offset,
                bad.reason,
                sequence=bad.sequence,
                records_lost=lost,
                resume_offset=bad.resume_offset,
            )
        )
