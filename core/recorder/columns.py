"""Vectorised decoding of one message type of a journal into columns: no per-record Python.

The journal's index (reader.scan) gives every record's segment, frame offset, length and SBE
blockLength; the segment files are memory-mapped and numpy gathers, in one fancy index per segment:
- the fixed blocks, viewed with the codec's BLOCK_DTYPE (a block starts 8-aligned in a segment, so an
  8-byte-stride view reaches every one);
- each repeating group: the dimension header of every record, then all entries at once (a 1-byte
  stride view, entries being packed at arbitrary offsets), with the row each entry belongs to;
- each var data field: lengths and bytes, as an offsets + bytes pair (what an Arrow string column is).
Records are walked with a cursor array, one element per record, in schema order, using each record's
own blockLength and each group's own entry blockLength, as SBE requires. A record whose bytes do not
hold what its headers say is refused with the sequence named (MalformedRecordError).

Nested groups (none in the aerodesk schema) are not decoded here: decode_columns raises for them.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.codec.messages import SCHEMA_ID
from core.journal import BlockLayoutError, JournalError, JournalReader
from core.recorder.schema_info import schema_blocks

FRAME_HEADER = 40  # journal frame header before the SBE message
SBE_HEADER = 8
GROUP_HEADER = 4  # groupSizeEncoding: blockLength u16, numInGroup u16


class MalformedRecordError(JournalError):
    """A record whose SBE headers promise more bytes than it has."""


@dataclass
class GroupColumns:
    name: str
    entry: type  # the codec's group entry class
    parent: np.ndarray  # int64: the row (index into TemplateColumns) each entry belongs to
    blocks: np.ndarray  # the entry class's BLOCK_DTYPE


@dataclass
class VarData:
    offsets: np.ndarray  # int64, len(rows) + 1: bytes of row i are data[offsets[i]:offsets[i + 1]]
    data: np.ndarray  # uint8


@dataclass
class TemplateColumns:
    message: type  # the codec's message class
    rows: np.ndarray  # core.journal.SCAN_DTYPE: sequence, receive time, stream, session, ... per record
    blocks: np.ndarray  # the message's BLOCK_DTYPE, one per record
    groups: dict[str, GroupColumns] = field(default_factory=dict)
    data: dict[str, VarData] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


def decode_columns(
    reader: JournalReader,
    message: type,
    *,
    stream_ids: Collection[int] | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    groups: bool = True,
    data: bool = True,
) -> TemplateColumns:
    """Every selected record of `message` (a codec class) as columns; groups/data=False skips them."""
    info = schema_blocks()[message.NAME]
    rows = reader.scan(
        template_ids=[message.TEMPLATE_ID],
        schema_id=SCHEMA_ID,
        stream_ids=stream_ids,
        start_ns=start_ns,
        end_ns=end_ns,
    )
    walk_groups = list(message.GROUPS) if groups or data else []  # data comes after the groups
    for name in walk_groups:
        if message.GROUP_TYPES[name].GROUPS or message.GROUP_TYPES[name].DATA:
            raise NotImplementedError(f"{message.NAME}.{name}: nested groups are not decoded to columns")
    block_parts: list[np.ndarray] = []
    group_parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {g: [] for g in walk_groups}
    data_parts: dict[str, list[VarData]] = {d: [] for d in message.DATA if data}
    base = 0
    for number in np.unique(rows["segment"]).tolist():
        picked = rows[rows["segment"] == number]
        path = reader.path / f"{number:08d}.seg"
        blocks, found_groups, found_data = _decode_segment(
            path, picked, message, info, walk_groups, groups, data
        )
        block_parts.append(blocks)
        for name, (parent, entries) in found_groups.items():
            group_parts[name].append((parent + base, entries))
        for name, var in found_data.items():
            data_parts[name].append(var)
        base += len(picked)
    out = TemplateColumns(message, rows, _concat(block_parts, message.BLOCK_DTYPE))
    if groups:
        for name, pieces in group_parts.items():
            entry = message.GROUP_TYPES[name]
            out.groups[name] = GroupColumns(
                name,
                entry,
                _concat([p for p, _ in pieces], np.int64),
                _concat([e for _, e in pieces], entry.BLOCK_DTYPE),
            )
    for name, pieces in data_parts.items():
        out.data[name] = _concat_var(pieces)
    return out


def _decode_segment(
    path: Path,
    rows: np.ndarray,
    message: type,
    info: object,
    group_names: list[str],
    want_groups: bool,
    want_data: bool,
) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]], dict[str, VarData]]:
    fd = os.open(path, os.O_RDONLY)
    try:
        mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    try:
        return _walk(mm, path, rows, message, info, group_names, want_groups, want_data)
    finally:
        mm.close()


def _walk(
    mm: mmap.mmap,
    path: Path,
    rows: np.ndarray,
    message: type,
    info: object,
    group_names: list[str],
    want_groups: bool,
    want_data: bool,
) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]], dict[str, VarData]]:
    size = len(mm)
    raw = np.frombuffer(mm, np.uint8)
    try:
        start = rows["offset"].astype(np.int64) + FRAME_HEADER  # the SBE message
        end = start + rows["length"].astype(np.int64)
        block_length = rows["block_length"].astype(np.int64)
        dtype = message.BLOCK_DTYPE
        _check_layout(block_length, dtype.itemsize, rows, f"{message.NAME} fixed block", path)
        blocks = _gather(mm, size, start + SBE_HEADER, dtype, stride=8)
        cursor = start + SBE_HEADER + block_length
        _check_bounds(cursor, end, rows, f"{message.NAME} fixed block", path)
        groups: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in group_names:
            entry = message.GROUP_TYPES[name]
            _check_bounds(cursor + GROUP_HEADER, end, rows, f"{message.NAME}.{name} header", path)
            entry_length = _u16(raw, cursor)
            count = _u16(raw, cursor + 2)
            cursor = cursor + GROUP_HEADER
            has = count > 0
            _check_layout(
                entry_length[has], entry.BLOCK_DTYPE.itemsize, rows[has], f"{message.NAME}.{name}", path
            )
            after = cursor + count * entry_length
            _check_bounds(after, end, rows, f"{message.NAME}.{name} entries", path)
            if want_groups:
                groups[name] = _entries(mm, size, rows, cursor, entry_length, count, entry.BLOCK_DTYPE)
            cursor = after
        var: dict[str, VarData] = {}
        prefixes = info.data_length_bytes  # type: ignore[attr-defined]
        for name in message.DATA if want_data else ():
            width = prefixes.get(name, 0)
            if width not in (1, 2, 4):
                raise NotImplementedError(f"{message.NAME}.{name}: var data length prefix of {width} bytes")
            _check_bounds(cursor + width, end, rows, f"{message.NAME}.{name} length", path)
            length = _uint(raw, cursor, width)
            data_start = cursor + width
            cursor = data_start + length
            _check_bounds(cursor, end, rows, f"{message.NAME}.{name}", path)
            var[name] = _var_bytes(raw, data_start, length)
        return blocks, groups, var
    finally:
        del raw


def _gather(mm: mmap.mmap, size: int, offsets: np.ndarray, dtype: np.dtype, *, stride: int) -> np.ndarray:
    width = dtype.itemsize
    if len(offsets) == 0 or size < width:
        return np.empty(0, dtype)
    view = np.ndarray(
        shape=((size - width) // stride + 1,), dtype=np.dtype((np.void, width)), buffer=mm, strides=(stride,)
    )
    try:
        return view[offsets // stride].view(dtype)
    finally:
        del view


def _entries(
    mm: mmap.mmap,
    size: int,
    rows: np.ndarray,
    cursor: np.ndarray,
    entry_length: np.ndarray,
    count: np.ndarray,
    dtype: np.dtype,
) -> tuple[np.ndarray, np.ndarray]:
    """(parent row, entry block) of every entry of one group, all records at once."""
    total = int(count.sum())
    parent = np.repeat(np.arange(len(rows), dtype=np.int64), count)
    first = np.cumsum(count) - count  # index of each row's first entry
    within = np.arange(total, dtype=np.int64) - np.repeat(first, count)
    offsets = np.repeat(cursor, count) + within * np.repeat(entry_length, count)
    return parent, _gather(mm, size, offsets, dtype, stride=1)


def _u16(raw: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return raw[offsets].astype(np.int64) | raw[offsets + 1].astype(np.int64) << 8


def _uint(raw: np.ndarray, offsets: np.ndarray, width: int) -> np.ndarray:
    value = raw[offsets].astype(np.int64)
    for i in range(1, width):
        value |= raw[offsets + i].astype(np.int64) << (8 * i)
    return value


def _var_bytes(raw: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> VarData:
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    index = np.repeat(starts - offsets[:-1], lengths) + np.arange(total, dtype=np.int64)
    return VarData(offsets, raw[index])


def _check_layout(lengths: np.ndarray, width: int, rows: np.ndarray, what: str, path: Path) -> None:
    short = lengths < width
    if short.any():
        first = int(np.flatnonzero(short)[0])
        raise BlockLayoutError(
            f"{path}: {int(short.sum())} record(s) have a {what} of {int(lengths[first])} bytes, "
            f"shorter than this build's {width} (first: sequence {int(rows['sequence'][first])}, "
            f"schema version {int(rows['version'][first])}); decode them one by one (aerodesk log dump)"
        )


def _check_bounds(cursor: np.ndarray, end: np.ndarray, rows: np.ndarray, what: str, path: Path) -> None:
    over = cursor > end
    if over.any():
        first = int(np.flatnonzero(over)[0])
        raise MalformedRecordError(
            f"{path}: record sequence {int(rows['sequence'][first])} is malformed: its {what} runs "
            f"{int(cursor[first] - end[first])} byte(s) past the end of the message"
        )


def _concat(parts: list[np.ndarray], dtype: np.dtype | type) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    out = np.empty(sum(len(p) for p in parts), dtype)
    return np.concatenate(parts, out=out) if parts else out


def _concat_var(parts: list[VarData]) -> VarData:
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return VarData(np.zeros(1, np.int64), np.empty(0, np.uint8))
    data = np.concatenate([p.data for p in parts])
    offsets = [parts[0].offsets]
    base = int(parts[0].offsets[-1])
    for p in parts[1:]:
        offsets.append(p.offsets[1:] + base)
        base += int(p.offsets[-1])
    return VarData(np.concatenate(offsets), data)
