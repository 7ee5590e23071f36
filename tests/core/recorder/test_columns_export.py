"""The vectorised decoder and the Parquet export against the generated codec, record by record: random
messages of every type (groups and var data included), journaled, exported, read back with pyarrow and
compared with what the codec decodes from the same bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.codec.generated.aerodesk_sbe as mod
from core.codec.messages import MESSAGES, SCHEMA_ID, SCHEMA_VERSION, BookDelta, Trade, decode
from core.instruments import load_instruments
from core.journal import FsyncPolicy, JournalReader, JournalWriter
from core.recorder.columns import MalformedRecordError, decode_columns
from core.recorder.export import export_parquet
from core.recorder.schema_info import BlockInfo, schema_blocks
from tests.core.codec.strategies import message_values
from tests.core.recorder.desk import book_delta, trade

ALL = sorted(MESSAGES.values(), key=lambda m: m.TEMPLATE_ID)


def _write(path: Path, payloads: list[bytes], segment_bytes: int = 1 << 16) -> None:
    with JournalWriter(
        path,
        schema_id=SCHEMA_ID,
        schema_version=SCHEMA_VERSION,
        instance="test",
        fsync=FsyncPolicy.never(),
        max_segment_bytes=segment_bytes,
    ) as w:
        for i, payload in enumerate(payloads):
            w.append(payload, stream_id=20 + i % 3, receive_time_ns=1_000 + i, session_id=7, position=64 * i)


def _as_decoded(message: type, info: BlockInfo, row: dict[str, Any], entries: dict[str, list[dict]]) -> dict:
    """An exported row in the shape of the codec's to_dict()."""
    out: dict[str, Any] = {}
    for name in message.FIELDS:
        field = info.fields[name]
        if field.kind == "composite":
            prefix = f"{name}_"
            out[name] = {k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)}
        elif field.kind == "set":
            out[name] = getattr(mod, field.type_name)(row[name]).to_dict()
        else:
            out[name] = row[name]
    for name in message.GROUPS:
        entry_info = info.groups[name]
        entry = message.GROUP_TYPES[name]
        out[name] = [_as_decoded(entry, entry_info, e, {}) for e in entries.get(name, [])]
    for name in message.DATA:
        out[name] = row[name]
    return out


def _normalise(message: type, info: BlockInfo, decoded: dict[str, Any]) -> dict[str, Any]:
    """The codec's to_dict() with the two conventions of the export: undefined enum values as
    UNKNOWN_<n> names, empty optional char arrays as ''."""
    out = dict(decoded)
    for name in message.FIELDS:
        kind = info.fields[name].kind
        if kind == "enum" and isinstance(out[name], int):
            out[name] = f"UNKNOWN_{out[name]}"
        elif kind == "chars" and out[name] is None:
            out[name] = ""
    for name in message.GROUPS:
        entry = message.GROUP_TYPES[name]
        out[name] = [_normalise(entry, info.groups[name], e) for e in out[name]]
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_export_matches_the_codec_record_by_record(tmp_path_factory, data):
    chosen = data.draw(st.lists(st.sampled_from(ALL), min_size=1, max_size=40))
    payloads = [m.encode_bytes(**data.draw(message_values(mod, m))) for m in chosen]
    root = tmp_path_factory.mktemp("export")
    _write(root / "journal", payloads, segment_bytes=4096)  # several segments
    reader = JournalReader(root / "journal")
    written = export_parquet(reader, root / "out")
    tables = {t.message: pq.read_table(t.path).to_pylist() for t in written}
    blocks = schema_blocks()
    for message in {type(decode(p)) for p in payloads}:
        info = blocks[message.NAME]
        rows = tables[message.NAME]
        expected = [p for p in payloads if decode(p).TEMPLATE_ID == message.TEMPLATE_ID]
        assert len(rows) == len(expected)
        for row, payload in zip(rows, expected, strict=True):
            entries = {
                g: [e for e in tables.get(f"{message.NAME}.{g}", []) if e["sequence"] == row["sequence"]]
                for g in message.GROUPS
            }
            for g, found in entries.items():
                assert [e["entry"] for e in found] == list(range(len(found))), g
            got = _as_decoded(message, info, row, entries)
            assert got == _normalise(message, info, decode(payload).to_dict())
            assert payloads[row["sequence"]] == payload and row["stream_id"] == 20 + row["sequence"] % 3


def test_prices_and_quantities_carry_their_instruments_exponents(tmp_path):
    catalog = load_instruments()
    known = [i for i in catalog][:2]
    unknown_id = max(i.id for i in catalog) + 1000
    payloads = [
        trade(0, known[0].id),
        trade(1, known[1].id),
        trade(2, unknown_id),
        book_delta(3, known[1].id),
    ]
    _write(tmp_path / "j", payloads)
    export_parquet(JournalReader(tmp_path / "j"), tmp_path / "out", catalog=catalog)
    trades = pq.read_table(tmp_path / "out" / "Trade.parquet").to_pylist()
    for row, instrument in zip(trades, [known[0], known[1], None], strict=True):
        expected_price = instrument.price_exponent if instrument else None
        expected_qty = instrument.qty_exponent if instrument else None
        assert (row["price_exponent"], row["qty_exponent"]) == (expected_price, expected_qty)
    levels = pq.read_table(tmp_path / "out" / "BookDelta.levels.parquet").to_pylist()
    assert levels and all(r["price_exponent"] == known[1].price_exponent for r in levels)  # from the message
    table = pq.read_table(tmp_path / "out" / "Trade.parquet")
    assert b"mantissa * 10^exponent" in table.schema.metadata[b"convention"]


def test_filters_select_the_same_records_as_the_index(tmp_path):
    payloads = [trade(i) if i % 2 else book_delta(i) for i in range(300)]
    _write(tmp_path / "j", payloads)
    reader = JournalReader(tmp_path / "j")
    cols = decode_columns(reader, Trade, stream_ids=[21], start_ns=1_100, end_ns=1_200)
    expected = [i for i in range(100, 200) if i % 2 and 20 + i % 3 == 21]
    assert cols.blocks["tradeId"].tolist() == [1000 + i for i in expected]
    assert cols.rows["sequence"].tolist() == expected
    deltas = decode_columns(reader, BookDelta)
    assert np.array_equal(np.bincount(deltas.groups["levels"].parent), np.full(150, 3))


def test_a_record_whose_group_runs_past_its_end_is_refused_by_sequence(tmp_path):
    good = book_delta(0)
    cut = good[:-10]  # the group header still says 3 entries
    _write(tmp_path / "j", [good, cut, good])
    with pytest.raises(MalformedRecordError, match=r"record sequence 1 is malformed: its BookDelta\.levels"):
        decode_columns(JournalReader(tmp_path / "j"), BookDelta)
