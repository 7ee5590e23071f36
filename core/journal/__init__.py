"""One append-only journal format for the oms write-ahead log and the recorder.

A journal is a directory of segment files rolled by size. Each segment has a 128-byte header (magic,
format version, SBE schema id and version, instance, created-at, segment index, first sequence) and
crc32-framed records (length, sequence, receive time, position, stream id, session id, SBE message).
Beside it, an index file of 32-byte entries (receive time, offset, length, stream, session and the
message's SBE header) lets numpy filter and gather without a per-record Python loop. A segment the
writer closed is sealed: the index header then carries crc32s of the record bytes and of the entries,
so readers check a whole segment with one crc32 and trust its index; otherwise they verify record by
record. docs/journal-format.md has the byte layout, the damage kinds and the policies.

    writer = JournalWriter(path, schema_id=7001, schema_version=1, instance="desk",
                           fsync=FsyncPolicy.every_record())
    seq = writer.append(sbe_bytes, stream_id=30, receive_time_ns=t, session_id=s, position=p)
    writer.close()

    reader = JournalReader(path, expected_schema_id=7001)            # on_damage="stop" | "skip"
    for record in reader.records(stream_ids=[30], start_ns=t0): ...
    table = reader.scan(template_ids=[3])                            # numpy rows, SCAN_DTYPE
    trades = reader.blocks(trade_block_dtype, template_id=3)         # numpy fixed blocks
    reader.damage, reader.info()                                     # reports, JournalInfo
"""

from core.journal.damage import Damage, DamageKind
from core.journal.errors import (
    BlockLayoutError,
    JournalCorruptError,
    JournalError,
    JournalFormatError,
    JournalLockedError,
    JournalNotFoundError,
    JournalWriteError,
)
from core.journal.format import ENTRY_DTYPE, FORMAT_VERSION
from core.journal.info import JournalInfo
from core.journal.paths import (
    default_data_dir,
    find_journals,
    parse_recording_start,
    recording_dir,
    wal_dir,
)
from core.journal.policy import FsyncMode, FsyncPolicy
from core.journal.reader import SCAN_DTYPE, JournalReader, Record, TemplateBlocks, journal_info
from core.journal.writer import DEFAULT_SEGMENT_BYTES, JournalWriter, WriterStats

__all__ = [
    "DEFAULT_SEGMENT_BYTES",
    "ENTRY_DTYPE",
    "FORMAT_VERSION",
    "SCAN_DTYPE",
    "BlockLayoutError",
    "Damage",
    "DamageKind",
    "FsyncMode",
    "FsyncPolicy",
    "JournalCorruptError",
    "JournalError",
    "JournalFormatError",
    "JournalInfo",
    "JournalLockedError",
    "JournalNotFoundError",
    "JournalReader",
    "JournalWriteError",
    "JournalWriter",
    "Record",
    "TemplateBlocks",
    "WriterStats",
    "default_data_dir",
    "find_journals",
    "journal_info",
    "parse_recording_start",
    "recording_dir",
    "wal_dir",
]
