"""Torn, truncated and corrupt journals: damage is reported with where and why, never misread."""

from __future__ import annotations

import os
import shutil
import struct

import pytest

from core.journal import (
    DamageKind,
    JournalFormatError,
    JournalNotFoundError,
    JournalReader,
    JournalWriter,
    journal_info,
)
from core.journal.format import SEGMENT_HEADER_LENGTH, SegmentHeader, decode_segment_header
from tests.core.journal.journal_helpers import (
    TRADE_DTYPE,
    TRADE_TEMPLATE,
    as_tuples,
    crash_write,
    make_records,
    write_records,
)

N = 300


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    """A journal whose writer died without closing: the last segment is unsealed."""
    path = tmp_path_factory.mktemp("crashed") / "journal"
    result = crash_write(path, N, max_segment_bytes=8 * 1024)
    assert result["next_sequence"] == N
    return path


@pytest.fixture(scope="module")
def sealed(tmp_path_factory):
    """A journal closed cleanly: every segment sealed."""
    path = tmp_path_factory.mktemp("sealed") / "journal"
    write_records(path, make_records(N), max_segment_bytes=8 * 1024)
    return path


@pytest.fixture
def copy_of(tmp_path):
    def copy(path):
        target = tmp_path / "copy"
        shutil.copytree(path, target)
        return target

    return copy


def _rows(path):
    return JournalReader(path).scan()


def _flip(path, offset, mask=0x40):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ mask]))


def test_torn_tail_at_every_byte_of_the_last_record(crashed, copy_of):
    path = copy_of(crashed)
    rows = _rows(path)
    expected = as_tuples(make_records(N))
    last = rows[-1]
    segment = path / f"{int(last['segment']):08d}.seg"
    start = int(last["offset"])
    end = os.path.getsize(segment)
    assert end > start + 40
    for cut in range(end - 1, start, -1):
        os.truncate(segment, cut)
        reader = JournalReader(path)
        assert as_tuples(reader.records()) == expected[:-1], cut
        [damage] = reader.damage
        assert damage.kind is DamageKind.TORN_TAIL
        assert (damage.segment, damage.offset, damage.sequence) == (segment, start, N - 1)
        assert "incomplete" in damage.reason or "extends past the end" in damage.reason
        assert str(segment) in str(damage) and f"offset {start}" in str(damage)
    os.truncate(segment, start)  # cut exactly between records: a clean, shorter journal
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == expected[:-1]
    assert reader.damage == []


def test_zero_filled_tail_is_a_torn_tail(crashed, copy_of):
    # after a crash a file system may show the grown size with zeros where the data never landed
    path = copy_of(crashed)
    last = sorted(path.glob("*.seg"))[-1]
    size = os.path.getsize(last)
    with open(last, "ab") as f:
        f.write(bytes(200))
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(make_records(N))
    [damage] = reader.damage
    assert (damage.kind, damage.offset) == (DamageKind.TORN_TAIL, size)


def test_truncating_a_sealed_segment_is_reported_with_the_records_lost(sealed, copy_of):
    path = copy_of(sealed)
    rows = _rows(path)
    last_segment = int(rows["segment"][-1])
    in_last = rows[rows["segment"] == last_segment]
    segment = path / f"{last_segment:08d}.seg"
    cut_record = in_last[len(in_last) // 2]
    os.truncate(segment, int(cut_record["offset"]) + 10)
    reader = JournalReader(path)
    kept = int(cut_record["sequence"])
    assert as_tuples(reader.records()) == as_tuples(make_records(N))[:kept]
    [damage] = reader.damage
    assert damage.kind is DamageKind.TRUNCATED
    assert damage.offset == int(cut_record["offset"])
    assert damage.records_lost == N - kept
    # cut exactly at a record boundary: no torn record, but the seal still tells
    os.truncate(segment, int(cut_record["offset"]))
    [damage] = JournalReader(path).check()
    assert damage.kind is DamageKind.TRUNCATED and damage.records_lost == N - kept
    assert "sealed with" in damage.reason


# byte offsets inside a frame: crc, length, sequence, receive time, stream id, payload, last payload byte
FRAME_FIELDS = {"crc": 1, "length": 5, "sequence": 9, "receive_time": 17, "stream_id": 33, "payload": 45}


@pytest.mark.parametrize("field", list(FRAME_FIELDS))
@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("source", ["sealed", "crashed"])
def test_corrupt_middle_record_stops_or_skips_never_misreads(field, where, source, request, copy_of):
    path = copy_of(request.getfixturevalue(source))
    rows = _rows(path)
    segment_number = int(rows["segment"][0 if where == "first" else -1])
    in_segment = [i for i, s in enumerate(rows["segment"].tolist()) if s == segment_number]
    k = in_segment[len(in_segment) // 2]  # a middle record of that segment
    segment = path / f"{segment_number:08d}.seg"
    offset = int(rows["offset"][k])
    mask = 0x01 if field == "length" else 0x40  # a small length change keeps the frame inside the file
    _flip(segment, offset + FRAME_FIELDS[field], mask)
    expected = as_tuples(make_records(N))

    stop = JournalReader(path)
    assert as_tuples(stop.records()) == expected[:k]
    [damage] = stop.damage
    assert damage.kind is DamageKind.CORRUPT
    assert (damage.segment, damage.offset, damage.sequence) == (segment, offset, k)
    assert damage.resume_offset == int(rows["offset"][k + 1])
    assert damage.records_lost == 1

    skip = JournalReader(path, on_damage="skip")
    assert as_tuples(skip.records()) == expected[:k] + expected[k + 1 :]
    assert skip.damage == [damage]
    trades = skip.blocks(TRADE_DTYPE, TRADE_TEMPLATE)
    assert k not in trades.sequence.tolist()
    assert len(trades) == sum(
        1 for r in make_records(N) if r.template_id == TRADE_TEMPLATE and r.sequence != k
    )


def test_corrupt_last_record_of_a_sealed_segment_is_corrupt_not_torn(sealed, copy_of):
    path = copy_of(sealed)
    rows = _rows(path)
    segment = path / f"{int(rows['segment'][-1]):08d}.seg"
    _flip(segment, int(rows["offset"][-1]) + 45)
    [damage] = JournalReader(path).check()
    assert damage.kind is DamageKind.CORRUPT and damage.records_lost == 1 and damage.sequence == N - 1


def test_damaged_segment_header_loses_that_segment_only_when_skipping(sealed, copy_of):
    path = copy_of(sealed)
    rows = _rows(path)
    _flip(path / "00000001.seg", 30)  # created-at field: the header checksum fails
    in_first = int((rows["segment"] == 0).sum())
    in_second = int((rows["segment"] == 1).sum())
    expected = as_tuples(make_records(N))

    stop = JournalReader(path)
    assert as_tuples(stop.records()) == expected[:in_first]
    [damage] = stop.damage
    assert (damage.kind, damage.offset) == (DamageKind.CORRUPT, 0)
    assert "header checksum" in damage.reason
    assert damage.records_lost == in_second

    skip = JournalReader(path, on_damage="skip")
    assert as_tuples(skip.records()) == expected[:in_first] + expected[in_first + in_second :]


def test_missing_segment_file_is_a_reported_gap(sealed, copy_of):
    path = copy_of(sealed)
    rows = _rows(path)
    (path / "00000001.seg").unlink()
    (path / "00000001.idx").unlink()
    in_first = int((rows["segment"] == 0).sum())
    in_second = int((rows["segment"] == 1).sum())
    expected = as_tuples(make_records(N))
    stop = JournalReader(path)
    assert as_tuples(stop.records()) == expected[:in_first]
    [damage] = stop.damage
    assert damage.kind is DamageKind.MISSING and damage.records_lost == in_second
    assert "00000001" in damage.reason
    skip = JournalReader(path, on_damage="skip")
    assert as_tuples(skip.records()) == expected[:in_first] + expected[in_first + in_second :]
    info = journal_info(path)
    assert info.record_count == N - in_second and info.damaged


def test_damaged_index_is_reported_and_records_come_from_the_segment(sealed, copy_of):
    path = copy_of(sealed)
    _flip(path / "00000000.idx", 64 + 32 * 5 + 2)  # an offset inside the 6th entry
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(make_records(N))
    [damage] = reader.damage
    assert damage.kind is DamageKind.INDEX and not damage.loses_data
    assert "entries checksum" in damage.reason
    assert len(reader.blocks(TRADE_DTYPE, TRADE_TEMPLATE)) == sum(
        1 for r in make_records(N) if r.template_id == TRADE_TEMPLATE
    )


def test_missing_index_of_the_active_segment_is_not_damage(crashed, copy_of):
    path = copy_of(crashed)
    sorted(path.glob("*.idx"))[-1].unlink()
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(make_records(N))
    assert reader.damage == []


def test_bad_magic_is_a_format_error(sealed, copy_of):
    path = copy_of(sealed)
    _flip(path / "00000000.seg", 2)
    with pytest.raises(JournalFormatError, match="bad magic"):
        JournalReader(path)


def _rewrite_header(path, **changes):
    raw = bytearray(path.read_bytes())
    header = decode_segment_header(bytes(raw[:SEGMENT_HEADER_LENGTH]), path)
    fields = {
        "schema_id": header.schema_id,
        "schema_version": header.schema_version,
        "segment_index": header.segment_index,
        "created_at_ns": header.created_at_ns,
        "first_sequence": header.first_sequence,
        "instance": header.instance,
        "format_version": header.format_version,
    } | changes
    raw[:SEGMENT_HEADER_LENGTH] = SegmentHeader(**fields).encode()
    path.write_bytes(bytes(raw))


def test_newer_format_version_is_a_format_error(sealed, copy_of):
    path = copy_of(sealed)
    _rewrite_header(path / "00000001.seg", format_version=2)
    with pytest.raises(JournalFormatError, match=r"format version 2.*format version 1 only"):
        JournalReader(path)


def test_unknown_schema_id_is_a_format_error(sealed, copy_of):
    path = copy_of(sealed)
    with pytest.raises(JournalFormatError, match=r"unknown SBE schema id 7001.*expected 42"):
        JournalReader(path, expected_schema_id=42)
    _rewrite_header(path / "00000002.seg", schema_id=9999)
    with pytest.raises(JournalFormatError, match=r"00000002\.seg: unknown SBE schema id 9999"):
        JournalReader(path)


def test_not_a_journal_directory(tmp_path):
    with pytest.raises(JournalNotFoundError, match="does not exist"):
        JournalReader(tmp_path / "nope")
    (tmp_path / "00000000.seg").write_bytes(b"hello, this is not a journal segment" * 10)
    with pytest.raises(JournalFormatError, match="not a journal segment"):
        JournalReader(tmp_path)


def test_a_stale_frame_inside_a_payload_is_not_taken_for_a_resync_point(tmp_path):
    # a payload carrying a copy of an earlier valid frame (as a recording of journal bytes might):
    # the look-ahead after damage accepts only frames whose sequence fits where they sit
    records = make_records(30)
    write_records(tmp_path / "plain", records)
    rows = _rows(tmp_path / "plain")
    data = (tmp_path / "plain" / "00000000.seg").read_bytes()
    frame_of_record_2 = data[int(rows["offset"][2]) : int(rows["offset"][3])]
    assert struct.unpack_from("<Q", frame_of_record_2, 8)[0] == 2
    carrier = struct.pack("<HHHH", 0, 77, 7001, 1) + frame_of_record_2

    path = tmp_path / "nested"
    with JournalWriter(path, schema_id=7001, schema_version=1, instance="test") as writer:
        for r in records[:10]:
            writer.append(r.payload, stream_id=1)
        writer.append(carrier, stream_id=1)  # sequence 10 embeds a valid frame claiming sequence 2
        for r in records[11:20]:
            writer.append(r.payload, stream_id=1)
    nested_rows = _rows(path)
    _flip(path / "00000000.seg", int(nested_rows["offset"][10]) + 1)  # break record 10's checksum
    reader = JournalReader(path, on_damage="skip")
    [damage] = reader.check()
    assert damage.resume_offset == int(nested_rows["offset"][11])  # the real next frame
    assert damage.records_lost == 1
    assert [r.sequence for r in reader.records()] == [*range(10), *range(11, 20)]


def test_skipping_reports_every_damage_and_still_checks_segment_continuity(sealed, copy_of):
    path = copy_of(sealed)
    rows = _rows(path)
    first = [i for i, s in enumerate(rows["segment"].tolist()) if s == 0]
    k = first[len(first) // 2]
    _flip(path / "00000000.seg", int(rows["offset"][k]) + 45)  # a record in segment 0: resync follows
    (path / "00000002.seg").unlink()  # and a whole segment gone after it
    (path / "00000002.idx").unlink()
    reader = JournalReader(path, on_damage="skip")
    in_third = int((rows["segment"] == 2).sum())
    got = [r.sequence for r in reader.records()]
    assert got == [
        s for s, seg in zip(range(N), rows["segment"].tolist(), strict=True) if s != k and seg != 2
    ]
    corrupt, missing = reader.damage
    assert (corrupt.kind, corrupt.sequence, corrupt.records_lost) == (DamageKind.CORRUPT, k, 1)
    assert (missing.kind, missing.records_lost) == (DamageKind.MISSING, in_third)
    assert missing.segment == path / "00000003.seg"
