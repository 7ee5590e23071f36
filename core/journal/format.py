"""The on-disk layout of a journal: segment header, record frame, index entry, index header.

Every integer is little-endian. docs/journal-format.md is the prose version of this module.

Segment file `NNNNNNNN.seg` = a 128-byte header, then records. Each record is a frame:

    0  u32 crc32          over bytes 4 .. end of the frame (padding included)
    4  u32 length         payload length in bytes
    8  u64 sequence       journal-wide, consecutive from 0
    16 i64 receive_time_ns
    24 i64 position       transport position (e.g. the Aeron stream position)
    32 i32 stream_id
    36 i32 session_id
    40 payload            the SBE message: 8-byte header (blockLength, templateId, schemaId, version) first
       zero padding to a multiple of 8, so every frame (and every SBE fixed block) is 8-byte aligned

Index file `NNNNNNNN.idx` = a 64-byte header, then one 32-byte entry per record (see ENTRY_DTYPE).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from core.journal.errors import JournalFormatError

FORMAT_VERSION = 1
SEGMENT_MAGIC = b"\x89ADJ\r\n\x1a\n"  # PNG-style: catches text-mode mangling and non-journal files
INDEX_MAGIC = b"\x89ADX\r\n\x1a\n"
ALIGNMENT = 8

# magic, format version, header length, schema id, schema version, segment index, flags,
# created-at ns, first sequence, instance (UTF-8, NUL padded), reserved, crc32 of bytes 0..124
SEGMENT_HEADER = struct.Struct("<8sHHHHIIqQ64s20sI")
SEGMENT_HEADER_LENGTH = SEGMENT_HEADER.size
INSTANCE_MAX_BYTES = 64

# crc32, payload length, sequence, receive time ns, position, stream id, session id
FRAME_HEADER = struct.Struct("<IIQqqii")
FRAME_HEADER_LENGTH = FRAME_HEADER.size
FRAME_BODY = struct.Struct("<IQqqii")  # the frame header after the crc field: what the crc starts with
CRC_FIELD = struct.Struct("<I")

SBE_HEADER = struct.Struct("<HHHH")  # blockLength, templateId, schemaId, version
SBE_HEADER_LENGTH = SBE_HEADER.size
MIN_FRAME_LENGTH = FRAME_HEADER_LENGTH + SBE_HEADER_LENGTH

# receive time ns, frame offset, payload length, stream id, session id, then the payload's SBE header
INDEX_ENTRY = struct.Struct("<qIIiiHHHH")
INDEX_ENTRY_LENGTH = INDEX_ENTRY.size
INDEX_ENTRY_HEAD = struct.Struct("<qIIii")  # an entry up to the SBE header, which is copied as is
ENTRY_DTYPE = np.dtype(
    [
        ("receive_time_ns", "<i8"),
        ("offset", "<u4"),
        ("length", "<u4"),
        ("stream_id", "<i4"),
        ("session_id", "<i4"),
        ("block_length", "<u2"),
        ("template_id", "<u2"),
        ("schema_id", "<u2"),
        ("version", "<u2"),
    ]
)
assert ENTRY_DTYPE.itemsize == INDEX_ENTRY_LENGTH

# magic, format version, header length, entry length, reserved, segment index, sealed flag,
# first sequence, record count, data length, data crc32, entries crc32, reserved, crc32 of bytes 0..60
INDEX_HEADER = struct.Struct("<8sHHHHIIQQQIIII")
INDEX_HEADER_LENGTH = INDEX_HEADER.size

MAX_SEGMENT_BYTES = 0xFFFF_FFFF  # frame offsets are u32 in the index


def frame_length(payload_length: int) -> int:
    """Bytes one record occupies in a segment: header, payload, padding to 8."""
    return (FRAME_HEADER_LENGTH + payload_length + ALIGNMENT - 1) & ~(ALIGNMENT - 1)


@dataclass(frozen=True, slots=True)
class SegmentHeader:
    schema_id: int
    schema_version: int
    segment_index: int
    created_at_ns: int
    first_sequence: int
    instance: str
    format_version: int = FORMAT_VERSION

    def encode(self) -> bytes:
        instance = encode_instance(self.instance)
        body = SEGMENT_HEADER.pack(
            SEGMENT_MAGIC,
            self.format_version,
            SEGMENT_HEADER_LENGTH,
            self.schema_id,
            self.schema_version,
            self.segment_index,
            0,
            self.created_at_ns,
            self.first_sequence,
            instance,
            b"",
            0,
        )
        return body[:-4] + CRC_FIELD.pack(zlib.crc32(body[:-4]))


class SegmentHeaderChecksumError(Exception):
    """The header has the right magic and version but fails its checksum: the segment is damaged."""


def decode_segment_header(data: bytes, path: object) -> SegmentHeader:
    """Decode and check a segment header.

    Raises JournalFormatError for a file that is not a segment this code can read (magic, version,
    header length) and SegmentHeaderChecksumError for a damaged one.
    """
    if len(data) < SEGMENT_HEADER_LENGTH:
        raise ValueError(f"segment header needs {SEGMENT_HEADER_LENGTH} bytes, got {len(data)}")
    (magic, version, header_length, schema_id, schema_version, segment_index, _flags, created_at_ns,
     first_sequence, instance, _reserved, crc) = SEGMENT_HEADER.unpack_from(data)  # fmt: skip
    if magic != SEGMENT_MAGIC:
        raise JournalFormatError(
            path, f"not a journal segment: bad magic {magic!r}, expected {SEGMENT_MAGIC!r}"
        )
    if version != FORMAT_VERSION:
        raise JournalFormatError(
            path, f"segment format version {version}; this code reads format version {FORMAT_VERSION} only"
        )
    if header_length != SEGMENT_HEADER_LENGTH:
        raise JournalFormatError(
            path,
            f"segment header length {header_length}; format {FORMAT_VERSION} has {SEGMENT_HEADER_LENGTH}",
        )
    if zlib.crc32(data[: SEGMENT_HEADER_LENGTH - 4]) != crc:
        raise SegmentHeaderChecksumError("segment header checksum mismatch")
    return SegmentHeader(
        schema_id=schema_id,
        schema_version=schema_version,
        segment_index=segment_index,
        created_at_ns=created_at_ns,
        first_sequence=first_sequence,
        instance=instance.rstrip(b"\0").decode("utf-8", errors="replace"),
        format_version=version,
    )


def encode_instance(instance: str) -> bytes:
    raw = instance.encode("utf-8")
    if not raw or len(raw) > INSTANCE_MAX_BYTES or b"\0" in raw:
        raise ValueError(
            f"instance name must be 1..{INSTANCE_MAX_BYTES} UTF-8 bytes without NUL, got {instance!r}"
        )
    return raw


@dataclass(frozen=True, slots=True)
class IndexHeader:
    segment_index: int
    first_sequence: int
    sealed: bool = False
    record_count: int = 0
    data_length: int = 0
    data_crc: int = 0
    entries_crc: int = 0

    def encode(self) -> bytes:
        body = INDEX_HEADER.pack(
            INDEX_MAGIC,
            FORMAT_VERSION,
            INDEX_HEADER_LENGTH,
            INDEX_ENTRY_LENGTH,
            0,
            self.segment_index,
            1 if self.sealed else 0,
            self.first_sequence,
            self.record_count,
            self.data_length,
            self.data_crc,
            self.entries_crc,
            0,
            0,
        )
        return body[:-4] + CRC_FIELD.pack(zlib.crc32(body[:-4]))


def decode_index_header(data: bytes) -> IndexHeader | str:
    """The index header, or the reason it cannot be used (the index is a cache: never fatal)."""
    if len(data) < INDEX_HEADER_LENGTH:
        return f"index header incomplete: {len(data)} of {INDEX_HEADER_LENGTH} bytes"
    (magic, version, header_length, entry_length, _r, segment_index, sealed, first_sequence, record_count,
     data_length, data_crc, entries_crc, _r2, crc) = INDEX_HEADER.unpack_from(data)  # fmt: skip
    if magic != INDEX_MAGIC:
        return f"bad index magic {magic!r}"
    if (version, header_length, entry_length) != (FORMAT_VERSION, INDEX_HEADER_LENGTH, INDEX_ENTRY_LENGTH):
        return f"index format {version}/{header_length}/{entry_length} not readable by this code"
    if zlib.crc32(data[: INDEX_HEADER_LENGTH - 4]) != crc:
        return "index header checksum mismatch"
    return IndexHeader(
        segment_index=segment_index,
        first_sequence=first_sequence,
        sealed=sealed == 1,
        record_count=record_count,
        data_length=data_length,
        data_crc=data_crc,
        entries_crc=entries_crc,
    )
