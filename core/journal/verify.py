"""Record-by-record verification of a segment: the slow path for unsealed or damaged segments.

Every frame is checked (length within the file, crc32, expected sequence) before it is believed.
At the first bad frame the walk looks ahead for a resync point: an 8-byte aligned offset holding a
frame whose crc checks out and whose sequence is possible there (not before the expected one, and no
further ahead than the bytes in between could hold). A resync point classifies the damage (valid data
follows: corrupt, not a torn tail) and lets a reader that chose to skip damage resume there.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

from core.journal.format import (
    ENTRY_DTYPE,
    FRAME_HEADER,
    FRAME_HEADER_LENGTH,
    SBE_HEADER_LENGTH,
    frame_length,
)

_RESYNC_CHUNK_SLOTS = 1 << 20  # bounds the look-ahead's temporary arrays to a few MiB


@dataclass(slots=True)
class BadFrame:
    offset: int
    sequence: int  # the sequence expected at that offset
    reason: str
    resume_offset: int | None = None
    resume_sequence: int | None = None


# a frame header and the SBE message header after it: one 48-byte gather per frame gives every field
_FRAME_AND_SBE_DTYPE = np.dtype(
    [
        ("crc", "<u4"),
        ("length", "<u4"),
        ("sequence", "<u8"),
        ("receive_time_ns", "<i8"),
        ("position", "<i8"),
        ("stream_id", "<i4"),
        ("session_id", "<i4"),
        ("block_length", "<u2"),
        ("template_id", "<u2"),
        ("schema_id", "<u2"),
        ("version", "<u2"),
    ]
)
_LENGTH_FIELD = struct.Struct("<I")


@dataclass(slots=True)
class WalkResult:
    entries: np.ndarray  # ENTRY_DTYPE rows of the good frames, in order
    sequences: np.ndarray  # uint64, one per entry
    good_end: int  # end of the last good frame before the first bad one
    next_sequence: int  # sequence after the last good frame before the first bad one
    bad: list[BadFrame] = field(default_factory=list)


def check_frame(mv: memoryview, offset: int, end: int, expected_sequence: int) -> str | None:
    """Why the frame at `offset` cannot be believed, or None when it is good."""
    left = end - offset
    if left < FRAME_HEADER_LENGTH:
        return f"record header incomplete: {left} of {FRAME_HEADER_LENGTH} bytes"
    crc, length, sequence, *_ = FRAME_HEADER.unpack_from(mv, offset)
    size = frame_length(length)
    if size > left:
        return f"record length {length} extends past the end of the segment ({left} bytes left)"
    if zlib.crc32(mv[offset + 4 : offset + size]) != crc:
        return f"checksum mismatch (record length field {length})"
    if sequence != expected_sequence:
        return f"record has sequence {sequence} where {expected_sequence} was expected"
    if length < SBE_HEADER_LENGTH:
        return f"payload of {length} bytes is shorter than the SBE message header"
    return None


def walk_frames(mv: memoryview, start: int, end: int, first_sequence: int, *, resume: bool) -> WalkResult:
    """Verify frames from `start` to `end`; with `resume`, continue after damage at resync points."""
    entries, sequences, bad = [], [], []
    good_end, next_sequence = start, first_sequence
    offset, expected = start, first_sequence
    while True:
        run_entries, run_end, stop = _verified_run(mv, offset, end, expected)
        entries.append(run_entries)
        sequences.append(np.arange(expected, expected + len(run_entries), dtype=np.uint64))
        expected += len(run_entries)
        if not bad:
            good_end, next_sequence = run_end, expected
        if stop is None:
            break
        frame = BadFrame(stop, expected, check_frame(mv, stop, end, expected) or "frame rejected")
        found = find_resync(mv, stop, end, expected)
        if found is not None:
            frame.resume_offset, frame.resume_sequence = found
        bad.append(frame)
        if not resume or found is None:
            break
        offset, expected = found
    return WalkResult(
        entries=np.concatenate(entries),
        sequences=np.concatenate(sequences),
        good_end=good_end,
        next_sequence=next_sequence,
        bad=bad,
    )


def _verified_run(
    mv: memoryview, start: int, end: int, first_sequence: int
) -> tuple[np.ndarray, int, int | None]:
    """(entries of the good frames from `start`, end of the last one, offset of the first bad frame or None).

    Python does only what cannot be vectorised: following the length chain and one crc32 per frame.
    Field extraction and the crc and sequence comparisons are numpy.
    """
    offsets: list[int] = []
    crcs: list[int] = []
    add_offset, add_crc = offsets.append, crcs.append
    length_at = _LENGTH_FIELD.unpack_from
    crc32 = zlib.crc32
    offset = start
    while True:
        left = end - offset
        if left < FRAME_HEADER_LENGTH:
            break  # clean end (left == 0) or an incomplete header
        length = length_at(mv, offset + 4)[0]
        size = (FRAME_HEADER_LENGTH + length + 7) & ~7
        if size > left or length < SBE_HEADER_LENGTH:
            break
        add_offset(offset)
        add_crc(crc32(mv[offset + 4 : offset + size]))
        offset += size
    chain_end = offset
    stop: int | None = offset if offset < end else None
    count = len(offsets)
    if count == 0:
        return np.empty(0, ENTRY_DTYPE), start, stop
    computed = np.array(crcs, dtype=np.uint32)
    at = np.array(offsets, dtype=np.int64)
    frames = np.ndarray(shape=((end - 48) // 8 + 1,), dtype=_FRAME_AND_SBE_DTYPE, buffer=mv, strides=(8,))
    heads = frames[at // 8]
    del frames  # release the buffer export: the caller closes its mmap
    expected = np.arange(first_sequence, first_sequence + count, dtype=np.uint64)
    good = (heads["crc"] == computed) & (heads["sequence"] == expected)
    if not good.all():
        count = int(np.argmin(good))  # the first bad frame ends the run
        stop = offsets[count]
        heads, at = heads[:count], at[:count]
    entries = np.empty(count, ENTRY_DTYPE)
    for name in ENTRY_DTYPE.names or ():
        entries[name] = at if name == "offset" else heads[name]
    run_end = offsets[count] if count < len(offsets) else chain_end
    return entries, run_end, stop


def find_resync(mv: memoryview, damaged_at: int, end: int, expected_sequence: int) -> tuple[int, int] | None:
    """First (offset, sequence) after `damaged_at` where a believable frame starts, or None."""
    first_slot = damaged_at // 8 + 1
    last_slot = (end - FRAME_HEADER_LENGTH) // 8  # a frame header must fit
    if first_slot > last_slot:
        return None
    words = np.frombuffer(mv, dtype="<u8", count=end // 8)
    for chunk_start in range(first_slot, last_slot + 1, _RESYNC_CHUNK_SLOTS):
        chunk_end = min(last_slot + 1, chunk_start + _RESYNC_CHUNK_SLOTS)
        slots = np.arange(chunk_start, chunk_end, dtype=np.int64)
        lengths = (words[chunk_start:chunk_end] >> np.uint64(32)).astype(np.int64)
        sequences = words[chunk_start + 1 : chunk_end + 1]
        offsets = slots * 8
        sizes = (FRAME_HEADER_LENGTH + lengths + 7) & ~7
        # frames that could sit between the damage and this slot bound the believable sequence
        max_sequence = expected_sequence + (offsets - damaged_at) // FRAME_HEADER_LENGTH
        plausible = (
            (sequences >= np.uint64(expected_sequence))
            & (sequences <= max_sequence.astype(np.uint64))
            & (lengths >= SBE_HEADER_LENGTH)
            & (offsets + sizes <= end)
        )
        for k in np.flatnonzero(plausible):
            offset = int(offsets[k])
            sequence = int(sequences[k])
            if check_frame(mv, offset, end, sequence) is None:
                return offset, sequence
    return None
