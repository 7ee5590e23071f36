"""JournalReader: records one by one, or whole columns at once with numpy.

Segments are opened one at a time, in order, and closed when done, so a journal of any size reads in
bounded memory. Damage policy:
- "stop" (default): nothing after the first data-losing damage is returned. The damage is recorded
  in `reader.damage` and logged.
- "skip": read on past damage, at the next resync point inside the segment (a frame with a valid crc
  and a believable sequence) or at the next segment. Every gap is reported with the records lost.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

from core.journal.damage import Damage, DamageKind
from core.journal.errors import BlockLayoutError, JournalFormatError, JournalNotFoundError
from core.journal.format import ENTRY_DTYPE, FRAME_HEADER_LENGTH, SBE_HEADER_LENGTH, SegmentHeader
from core.journal.info import InfoBuilder, JournalInfo
from core.journal.loader import LoadedSegment, load_segment, read_segment_header
from core.journal.segments import SegmentFile, list_segments

log = logging.getLogger(__name__)

DamagePolicy = Literal["stop", "skip"]
_POSITION_FIELD = 24  # byte offset of the position in a frame
_RECORD_CHUNK = 65_536
_PAYLOAD_START = FRAME_HEADER_LENGTH
_BLOCK_START = FRAME_HEADER_LENGTH + SBE_HEADER_LENGTH

# one row per record from reader.scan(): the index entry's fields (same bytes, same offsets), then
# the record's sequence and segment number
SCAN_DTYPE = np.dtype(
    {
        "names": [*(ENTRY_DTYPE.names or ()), "sequence", "segment"],
        "formats": [*(ENTRY_DTYPE.fields[n][0] for n in ENTRY_DTYPE.names or ()), "<u8", "<u4"],
        "offsets": [*(ENTRY_DTYPE.fields[n][1] for n in ENTRY_DTYPE.names or ()), 32, 40],
        "itemsize": 48,
    }
)


class Record(NamedTuple):
    sequence: int
    receive_time_ns: int
    stream_id: int
    session_id: int
    position: int
    template_id: int
    payload: bytes  # the whole SBE message, header included


@dataclass(frozen=True)
class TemplateBlocks:
    """Fixed blocks of every selected record of one template, in journal order."""

    template_id: int
    sequence: np.ndarray  # uint64
    receive_time_ns: np.ndarray  # int64
    stream_id: np.ndarray  # int32
    blocks: np.ndarray  # the caller's dtype

    def __len__(self) -> int:
        return len(self.blocks)


class JournalReader:
    def __init__(
        self,
        path: Path | str,
        *,
        expected_schema_id: int | None = None,
        on_damage: DamagePolicy = "stop",
        verify: bool = True,
    ) -> None:
        """Open a journal directory for reading.

        expected_schema_id: refuse (JournalFormatError) a journal of another SBE schema.
        verify: check sealed segments' data crc32 too (False trusts a sealed index whose own crc
        matches and whose recorded data length equals the file size: faster, for listings).
        """
        if on_damage not in ("stop", "skip"):
            raise ValueError(f"on_damage must be 'stop' or 'skip', got {on_damage!r}")
        self.path = Path(path)
        if not self.path.is_dir():
            raise JournalNotFoundError(self.path)
        self.on_damage: DamagePolicy = on_damage
        self.verify = verify
        self._files = list_segments(self.path)
        self._headers: list[SegmentHeader | None] = [
            read_segment_header(f, is_last=i == len(self._files) - 1)[0] for i, f in enumerate(self._files)
        ]
        known = [(f, h) for f, h in zip(self._files, self._headers, strict=True) if h is not None]
        self.schema_id: int | None = expected_schema_id if expected_schema_id is not None else None
        for f, h in known:
            if self.schema_id is None:
                self.schema_id = h.schema_id
            elif h.schema_id != self.schema_id:
                source = "expected" if expected_schema_id is not None else f"{known[0][0].path.name} has"
                raise JournalFormatError(
                    f.path,
                    f"unknown SBE schema id {h.schema_id} in segment header ({source} {self.schema_id})",
                )
        self._damage: dict[tuple[str, int, str], Damage] = {}
        # sealed segments whose data crc32 this reader has checked: sealed files do not change, so a
        # later pass (a replay that seeks back, say) trusts their index without reading them again
        self._crc_checked: set[Path] = set()

    # --- damage -----------------------------------------------------------------------------

    @property
    def damage(self) -> list[Damage]:
        """Damage found by the reads so far (check() reads everything)."""
        return sorted(self._damage.values(), key=lambda d: (str(d.segment), d.offset))

    def _report(self, damage: Damage) -> None:
        key = (str(damage.segment), damage.offset, str(damage.kind))
        if key not in self._damage:
            (log.warning if damage.loses_data else log.info)("journal damage: %s", damage)
        self._damage[key] = damage

    def check(self) -> list[Damage]:
        """Verify every segment (reading on past damage) and return all damage found."""
        for _ in self._segments("skip"):
            pass
        return self.damage

    # --- traversal ----------------------------------------------------------------------------

    def _segments(self, policy: DamagePolicy | None = None) -> Iterator[LoadedSegment]:
        policy = policy or self.on_damage
        last = len(self._files) - 1
        expected_next: int | None = None  # sequence the next segment should start at
        for i, file in enumerate(self._files):
            header = self._headers[i]
            if i > 0 and file.number != self._files[i - 1].number + 1:
                gap = self._missing_files(i, expected_next, header)
                self._report(gap)
                if policy == "stop":
                    return
            elif (
                i > 0
                and header is not None
                and expected_next is not None
                and header.first_sequence != expected_next
            ):
                lost = header.first_sequence - expected_next
                kind = DamageKind.MISSING if lost > 0 else DamageKind.CORRUPT
                what = (
                    f"{lost} record(s) missing before it"
                    if lost > 0
                    else "its sequences overlap the previous"
                )
                self._report(
                    Damage(
                        kind,
                        file.path,
                        0,
                        f"segment starts at sequence {header.first_sequence}, {expected_next} expected: "
                        + what,
                        sequence=expected_next,
                        records_lost=max(lost, 0),
                    )
                )
                if policy == "stop":
                    return
            verify = self.verify and file.path not in self._crc_checked
            segment = load_segment(file, is_last=i == last, verify=verify, resume=policy == "skip")
            if verify and segment.from_sealed_index:
                self._crc_checked.add(file.path)
            try:
                lossy = tail_lost = False
                for damage in segment.damage:
                    if damage.sequence is None and damage.loses_data and expected_next is not None:
                        damage = replace(damage, sequence=expected_next)  # a damaged header: lost from here
                    if damage.loses_data and damage.records_lost is None and damage.sequence is not None:
                        next_header = self._headers[i + 1] if i < last else None
                        if next_header is not None:
                            damage = replace(
                                damage, records_lost=next_header.first_sequence - damage.sequence
                            )
                    self._report(damage)
                    lossy = lossy or damage.loses_data
                    tail_lost = tail_lost or (damage.loses_data and damage.resume_offset is None)
                if tail_lost:
                    expected_next = None  # the segment's lost end is counted in the damage itself
                elif (span := segment.sequence_range()) is not None:
                    expected_next = span[1] + 1
                elif header is not None:
                    expected_next = header.first_sequence
                yield segment
            finally:
                segment.close()
            if lossy and policy == "stop":
                return

    def _missing_files(self, i: int, expected_next: int | None, header: SegmentHeader | None) -> Damage:
        before, after = self._files[i - 1].number, self._files[i].number
        lost = None
        if expected_next is not None and header is not None:
            lost = header.first_sequence - expected_next
        names = f"{before + 1:08d}" if after - before == 2 else f"{before + 1:08d}..{after - 1:08d}"
        return Damage(
            DamageKind.MISSING,
            self._files[i].path,
            0,
            f"segment file(s) {names} missing before this one",
            sequence=expected_next,
            records_lost=lost,
        )

    # --- reads --------------------------------------------------------------------------------

    def records(
        self,
        *,
        stream_ids: Collection[int] | None = None,
        template_ids: Collection[int] | None = None,
        schema_id: int | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        skip: int = 0,
    ) -> Iterator[Record]:
        """Records in journal order; filters use the index, so skipped records are never touched.

        Times select start_ns <= receive_time_ns < end_ns. `skip`: leave out the first `skip` records
        selected, counted on the segments' indexes (the records before it are not read; a sealed
        segment's data is checksummed only on this reader's first pass over it). Payloads are copies:
        safe to keep.
        """
        if skip < 0:
            raise ValueError(f"skip must not be negative, got {skip}")
        for segment in self._segments():
            rows = _select(segment.entries, stream_ids, template_ids, schema_id, start_ns, end_ns)
            if len(rows) == 0 or segment.mm is None:
                continue
            if skip:
                if skip >= len(rows):
                    skip -= len(rows)
                    continue
                rows, skip = rows[skip:], 0
            mm = segment.mm
            make = tuple.__new__  # builds the NamedTuple without its Python-level __new__
            for first in range(0, len(rows), _RECORD_CHUNK):  # bounded lists of Python ints
                chunk = rows[first : first + _RECORD_CHUNK]
                entries = segment.entries[chunk]
                offsets = entries["offset"].astype(np.int64)
                words = np.frombuffer(mm, dtype="<i8", count=segment.size // 8)
                positions = words[(offsets + _POSITION_FIELD) // 8].tolist()  # frames are 8-aligned
                del words  # release the mmap export
                columns = zip(
                    segment.sequences_at(chunk).tolist(),
                    entries["receive_time_ns"].tolist(),
                    entries["stream_id"].tolist(),
                    entries["session_id"].tolist(),
                    positions,
                    entries["template_id"].tolist(),
                    (offsets + _PAYLOAD_START).tolist(),
                    entries["length"].tolist(),
                    strict=True,
                )
                for (
                    sequence,
                    receive_ns,
                    stream_id,
                    session_id,
                    position,
                    template_id,
                    start,
                    length,
                ) in columns:
                    payload = mm[start : start + length]
                    yield make(
                        Record, (sequence, receive_ns, stream_id, session_id, position, template_id, payload)
                    )

    def scan(
        self,
        *,
        stream_ids: Collection[int] | None = None,
        template_ids: Collection[int] | None = None,
        schema_id: int | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> np.ndarray:
        """The index rows (SCAN_DTYPE) of every selected record, vectorised: no per-record Python."""
        parts = []
        for segment in self._segments():
            rows = _select(segment.entries, stream_ids, template_ids, schema_id, start_ns, end_ns)
            picked = segment.entries[rows]
            out = np.empty(len(picked), SCAN_DTYPE)
            # the entry fields lead each row byte for byte: one 2-D copy instead of one per field
            out.view(np.uint8).reshape(len(out), SCAN_DTYPE.itemsize)[:, : ENTRY_DTYPE.itemsize] = (
                picked.view(np.uint8).reshape(len(picked), ENTRY_DTYPE.itemsize)
            )
            out["sequence"] = segment.sequences_at(rows)
            out["segment"] = segment.file.number
            parts.append(out)
        return _cat(parts, SCAN_DTYPE)

    def blocks(
        self,
        dtype: np.dtype,
        template_id: int,
        *,
        stream_ids: Collection[int] | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        schema_id: int | None = None,
    ) -> TemplateBlocks:
        """The fixed block (`dtype`, e.g. a codec's block dtype) of every selected record of a template.

        Gathered straight from the memory-mapped segments with one numpy fancy-index per segment.
        Records whose blockLength is shorter than dtype.itemsize (an older schema version) raise
        BlockLayoutError: read those with records(). schema_id defaults to the journal's.
        """
        dtype = np.dtype(dtype)
        width = dtype.itemsize
        raw = np.dtype((np.void, width))
        schema = self.schema_id if schema_id is None else schema_id
        sequences, times, streams, blocks = [], [], [], []
        for segment in self._segments():
            rows = _select(segment.entries, stream_ids, (template_id,), schema, start_ns, end_ns)
            if len(rows) == 0 or segment.mm is None:
                continue
            picked = segment.entries[rows]
            short = (picked["block_length"] < width) | (picked["length"] < SBE_HEADER_LENGTH + width)
            if short.any():
                first = int(np.flatnonzero(short)[0])
                sequence = int(segment.sequences_at(rows[first : first + 1])[0])
                block_length, version = int(picked["block_length"][first]), int(picked["version"][first])
                raise BlockLayoutError(
                    f"{segment.path}: {int(short.sum())} record(s) of template {template_id} have a fixed "
                    f"block shorter than the dtype's {width} bytes (first: sequence {sequence}, blockLength "
                    f"{block_length}, version {version}); read them with records()"
                )
            # frames are 8-aligned, so a void view with an 8-byte stride reaches every block start
            slots = (picked["offset"].astype(np.int64) + _BLOCK_START) // 8
            view = np.ndarray(
                shape=((segment.size - width) // 8 + 1,), dtype=raw, buffer=segment.mm, strides=(8,)
            )
            try:
                blocks.append(view[slots].view(dtype))
            finally:
                del view  # release the mmap export before the segment closes
            sequences.append(segment.sequences_at(rows))
            times.append(picked["receive_time_ns"])
            streams.append(picked["stream_id"])
        return TemplateBlocks(
            template_id=template_id,
            sequence=_cat(sequences, np.uint64),
            receive_time_ns=_cat(times, np.int64),
            stream_id=_cat(streams, np.int32),
            blocks=_cat(blocks, dtype),
        )

    def info(self) -> JournalInfo:
        """Summary of the whole journal, reading on past damage so all of it is counted and reported."""
        size = sum(
            os.path.getsize(p) for f in self._files for p in (f.path, f.index_path) if os.path.exists(p)
        )
        builder = InfoBuilder(self.path, self._headers, size)
        for segment in self._segments("skip"):
            builder.add(segment)
        return builder.build(self.damage)

    @property
    def segment_files(self) -> list[SegmentFile]:
        return list(self._files)

    def close(self) -> None:
        """Nothing stays open between reads; kept so the reader works as a context manager."""

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _select(
    entries: np.ndarray,
    stream_ids: Collection[int] | None,
    template_ids: Collection[int] | None,
    schema_id: int | None,
    start_ns: int | None,
    end_ns: int | None,
) -> np.ndarray:
    """Row numbers of the entries that pass every filter (a slice when nothing is filtered)."""
    conditions = []
    if stream_ids is not None:
        conditions.append(_member(entries["stream_id"], stream_ids))
    if template_ids is not None:
        conditions.append(_member(entries["template_id"], template_ids))
    if schema_id is not None:
        conditions.append(entries["schema_id"] == schema_id)
    if start_ns is not None:
        conditions.append(entries["receive_time_ns"] >= start_ns)
    if end_ns is not None:
        conditions.append(entries["receive_time_ns"] < end_ns)
    if not conditions:
        return np.arange(len(entries))
    mask = conditions[0]
    for condition in conditions[1:]:
        mask &= condition
    return np.flatnonzero(mask)


def _member(column: np.ndarray, values: Collection[int]) -> np.ndarray:
    wanted = list(dict.fromkeys(values))
    if len(wanted) > 8:
        return np.isin(column, np.asarray(wanted, dtype=np.int64))
    mask = np.zeros(len(column), dtype=bool)
    for value in wanted:  # a few comparisons beat isin's sort on the common one-to-three ids
        mask |= column == value
    return mask


def _cat(parts: list[np.ndarray], dtype: np.dtype | type) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    # into an array of the exact dtype: concatenate alone would drop a structured dtype's padding
    out = np.empty(sum(len(p) for p in parts), dtype)
    return np.concatenate(parts, out=out) if parts else out


def journal_info(path: Path | str, *, verify: bool = True) -> JournalInfo:
    """Summary of the journal at `path` (see JournalReader.info)."""
    return JournalReader(path, verify=verify).info()
