"""Writing and reading back: records, filters, the numpy scan and block gather, the summary."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from core.journal import (
    SCAN_DTYPE,
    BlockLayoutError,
    JournalReader,
    JournalWriter,
    journal_info,
)
from core.journal.format import SEGMENT_HEADER_LENGTH, decode_segment_header
from tests.core.journal.journal_helpers import (
    INSTANCE,
    QUOTE_TEMPLATE,
    SCHEMA_ID,
    SCHEMA_VERSION,
    TRADE_BLOCK,
    TRADE_DTYPE,
    TRADE_TEMPLATE,
    as_tuples,
    decode_trade,
    make_records,
    write_records,
)

N = 3000


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    path = tmp_path_factory.mktemp("roundtrip") / "journal"
    records = make_records(N)
    write_records(path, records, max_segment_bytes=16 * 1024)
    return path, records


def test_round_trip_across_segments(journal):
    path, records = journal
    reader = JournalReader(path)
    assert len(reader.segment_files) >= 5  # rolled by size
    assert as_tuples(reader.records()) == as_tuples(records)
    assert reader.damage == []


def test_segment_headers_chain_their_sequences(journal):
    path, _ = journal
    headers = [
        decode_segment_header(f.path.read_bytes()[:SEGMENT_HEADER_LENGTH], f.path)
        for f in JournalReader(path).segment_files
    ]
    assert [h.segment_index for h in headers] == list(range(len(headers)))
    assert headers[0].first_sequence == 0
    assert {(h.schema_id, h.schema_version, h.instance) for h in headers} == {
        (SCHEMA_ID, SCHEMA_VERSION, INSTANCE)
    }
    counts = Counter(JournalReader(path).scan()["segment"].tolist())
    for previous, current in itertools.pairwise(headers):
        assert current.first_sequence == previous.first_sequence + counts[previous.segment_index]
    assert all(f.path.stat().st_size <= 16 * 1024 for f in JournalReader(path).segment_files)


@pytest.mark.parametrize(
    "filters",
    [
        {"stream_ids": [30]},
        {"template_ids": [QUOTE_TEMPLATE]},
        {"stream_ids": [20, 60], "template_ids": [TRADE_TEMPLATE]},
        {"start_ns": 1_500_000, "end_ns": 2_000_000},
        {"schema_id": SCHEMA_ID + 1},
    ],
)
def test_filters_select_exactly_the_matching_records(journal, filters):
    path, records = journal

    def wanted(r):
        return (
            ("stream_ids" not in filters or r.stream_id in filters["stream_ids"])
            and ("template_ids" not in filters or r.template_id in filters["template_ids"])
            and ("schema_id" not in filters or filters["schema_id"] == SCHEMA_ID)
            and r.receive_time_ns >= filters.get("start_ns", 0)
            and r.receive_time_ns < filters.get("end_ns", 2**63)
        )

    expected = as_tuples(r for r in records if wanted(r))
    assert as_tuples(JournalReader(path).records(**filters)) == expected
    assert JournalReader(path).scan(**filters)["sequence"].tolist() == [t[0] for t in expected]


@pytest.mark.parametrize("skip", [0, 1, 137, N // 2, N - 1, N, N + 5])
def test_skip_resumes_a_pass_at_a_record_number_across_segments(journal, skip):
    path, records = journal
    assert as_tuples(JournalReader(path).records(skip=skip)) == as_tuples(records[skip:])
    quotes = [r for r in records if r.template_id == QUOTE_TEMPLATE]
    got = JournalReader(path).records(template_ids=[QUOTE_TEMPLATE], skip=min(skip, len(quotes)))
    assert as_tuples(got) == as_tuples(quotes[skip:])  # counted among the records selected
    with pytest.raises(ValueError, match="skip must not be negative"):
        next(JournalReader(path).records(skip=-1))


def test_a_readers_later_passes_trust_the_sealed_segments_it_checksummed(journal, monkeypatch):
    import core.journal.loader as loader

    path, records = journal
    verified: list[bool] = []
    real = loader._check_seal

    def recording(*args: object, verify: bool) -> str | None:
        verified.append(verify)
        return real(*args, verify=verify)

    monkeypatch.setattr(loader, "_check_seal", recording)
    reader = JournalReader(path)
    assert as_tuples(reader.records()) == as_tuples(records)
    sealed = verified.count(True)
    assert sealed >= 4  # every sealed segment checksummed on the first pass
    verified.clear()
    assert as_tuples(reader.records(skip=5)) == as_tuples(records[5:])
    assert verified == [False] * sealed  # not again on the second
    next(JournalReader(path).records(skip=N - 1))  # a new reader checks them anew
    assert verified.count(True) == sealed


def test_numpy_scan_equals_record_iteration(journal):
    path, _ = journal
    reader = JournalReader(path)
    table = reader.scan()
    assert table.dtype == SCAN_DTYPE
    rows = list(reader.records())
    assert len(table) == len(rows)
    assert table["sequence"].tolist() == [r.sequence for r in rows]
    assert table["receive_time_ns"].tolist() == [r.receive_time_ns for r in rows]
    assert table["stream_id"].tolist() == [r.stream_id for r in rows]
    assert table["session_id"].tolist() == [r.session_id for r in rows]
    assert table["template_id"].tolist() == [r.template_id for r in rows]
    assert table["length"].tolist() == [len(r.payload) for r in rows]
    assert table["block_length"].tolist() == [int.from_bytes(r.payload[0:2], "little") for r in rows]


def test_blocks_gather_equals_per_record_decode(journal):
    path, records = journal
    got = JournalReader(path).blocks(TRADE_DTYPE, TRADE_TEMPLATE, stream_ids=[20, 30])
    trades = [r for r in records if r.template_id == TRADE_TEMPLATE and r.stream_id in (20, 30)]
    assert len(got) == len(trades) > 100
    assert got.blocks.dtype == TRADE_DTYPE
    assert got.sequence.tolist() == [r.sequence for r in trades]
    assert got.receive_time_ns.tolist() == [r.receive_time_ns for r in trades]
    assert got.stream_id.tolist() == [r.stream_id for r in trades]
    assert [tuple(b) for b in got.blocks.tolist()] == [decode_trade(r.payload) for r in trades]


def test_blocks_with_a_shorter_dtype_reads_the_leading_fields(journal):
    path, records = journal
    old = np.dtype([("instrument_id", "<u4"), ("price", "<i8")])  # an older, shorter block
    got = JournalReader(path).blocks(old, TRADE_TEMPLATE)
    trades = [decode_trade(r.payload)[:2] for r in records if r.template_id == TRADE_TEMPLATE]
    assert [tuple(b) for b in got.blocks.tolist()] == trades


def test_blocks_refuses_records_shorter_than_the_dtype(journal):
    path, _ = journal
    longer = np.dtype([*TRADE_DTYPE.descr, ("extra", "<i8")])
    with pytest.raises(BlockLayoutError, match=r"blockLength 29.*records\(\)"):
        JournalReader(path).blocks(longer, TRADE_TEMPLATE)


def test_blocks_of_an_absent_template_is_empty(journal):
    path, _ = journal
    got = JournalReader(path).blocks(TRADE_DTYPE, 99)
    assert len(got) == 0 and got.blocks.dtype == TRADE_DTYPE


def test_unverified_read_of_sealed_segments_gives_the_same_records(journal):
    path, records = journal
    assert as_tuples(JournalReader(path, verify=False).records()) == as_tuples(records)


def test_info_summarises_counts_times_and_size(journal):
    path, records = journal
    info = journal_info(path)
    assert info.record_count == len(records)
    assert (info.first_sequence, info.last_sequence) == (0, len(records) - 1)
    assert info.first_receive_ns == min(r.receive_time_ns for r in records)
    assert info.last_receive_ns == max(r.receive_time_ns for r in records)
    assert info.counts_by_stream == dict(Counter(r.stream_id for r in records))
    assert info.counts_by_template == dict(Counter((SCHEMA_ID, r.template_id) for r in records))
    assert (info.instance, info.schema_id, info.schema_versions) == (INSTANCE, SCHEMA_ID, (SCHEMA_VERSION,))
    assert info.size_bytes == sum(p.stat().st_size for p in path.iterdir() if p.suffix in (".seg", ".idx"))
    assert info.damage == () and not info.damaged
    assert info.to_dict()["counts_by_template"] == {
        f"{SCHEMA_ID}:{t}": c for t, c in sorted(Counter(r.template_id for r in records).items())
    }


def test_empty_journal_reads_as_empty(tmp_path):
    JournalWriter(tmp_path / "j", schema_id=SCHEMA_ID, schema_version=1, instance=INSTANCE).close()
    reader = JournalReader(tmp_path / "j")
    assert list(reader.records()) == []
    assert len(reader.scan()) == 0
    info = reader.info()
    assert info.record_count == 0 and info.first_sequence is None and info.damage == ()


def test_payload_boundaries_survive_padding(tmp_path):
    # payload lengths around the 8-byte alignment, each framed and padded differently
    payloads = [
        TRADE_BLOCK.size.to_bytes(2, "little") + bytes([3, 0, 0x59, 0x1B, 1, 0]) + bytes(range(k))
        for k in range(40)
    ]
    with JournalWriter(tmp_path / "j", schema_id=SCHEMA_ID, schema_version=1, instance=INSTANCE) as writer:
        for p in payloads:
            writer.append(p, stream_id=1, receive_time_ns=5)
    assert [r.payload for r in JournalReader(tmp_path / "j").records()] == payloads


def test_bad_records_are_refused_with_clear_errors(tmp_path):
    with JournalWriter(tmp_path / "j", schema_id=SCHEMA_ID, schema_version=1, instance=INSTANCE) as writer:
        with pytest.raises(ValueError, match="8-byte message header"):
            writer.append(b"short", stream_id=1)
        with pytest.raises(ValueError, match="stream_id=4294967296"):
            writer.append(bytes(16), stream_id=2**32)
        with pytest.raises(ValueError, match="does not fit a segment"):
            writer.append(bytes(writer.max_segment_bytes), stream_id=1)
        assert writer.next_sequence == 0  # nothing was consumed by the refusals
    assert list(JournalReader(tmp_path / "j").records()) == []


def test_blocks_keep_a_dtype_with_gaps_and_padding(journal):
    # a codec may expose a block dtype that names only some fields, at their SBE offsets
    path, records = journal
    sparse = np.dtype(
        {"names": ["instrument_id", "qty"], "formats": ["<u4", "<i8"], "offsets": [0, 12], "itemsize": 29}
    )
    got = JournalReader(path).blocks(sparse, TRADE_TEMPLATE)
    assert got.blocks.dtype == sparse
    expected = [
        (t[0], t[2]) for t in (decode_trade(r.payload) for r in records if r.template_id == TRADE_TEMPLATE)
    ]
    assert [tuple(b) for b in got.blocks.tolist()] == expected
