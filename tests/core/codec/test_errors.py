"""Bad input: truncated buffers, unknown templates, other schemas, values that cannot be encoded.
Every failure is an SbeError (a ValueError) with a clear message; decoding never returns garbage."""

from __future__ import annotations

import struct
from collections.abc import Callable
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.codec.features_schema import features_xml


def _samples(m: ModuleType) -> list[bytes]:
    op = m.OperatorIdentity(user="u", host="h", pid=1, tool="t")
    levels = [(100 + i, 5, 1) for i in range(3)]
    return [
        m.NewOrder.encode_bytes(1, 2, 3, 4, 0, 6, 1, "Buy", "Limit", "GTC", 0, 100, 5, 1, 2, op),
        m.BookSnapshot.encode_bytes(1, 2, 3, 4, 5, 6, levels, levels),
        m.ExecutionReport.encode_bytes(
            1,
            2,
            0,
            3,
            4,
            5,
            6,
            7,
            "V1",
            9,
            "Trade",
            "Filled",
            "Sell",
            "Limit",
            "IOC",
            0,
            1,
            2,
            3,
            4,
            5,
            6,
            (1, -2),
            (3, -4),
            "None",
            1,
            2,
            3,
            "some text",
        ),
        m.Heartbeat.encode_bytes(1, "oms", 42, "Running", 1, 2, 0, [("orders", 5), ("fills", 7)], "default"),
    ]


@pytest.fixture(scope="module")
def features(generate: Callable[[str], ModuleType]) -> ModuleType:
    return generate(features_xml())


def test_every_truncation_raises_truncated_message_error(aerodesk_mod: ModuleType) -> None:
    for raw in _samples(aerodesk_mod):
        assert aerodesk_mod.decode(raw).encoded_length == len(raw)
        for cut in range(len(raw)):
            with pytest.raises(aerodesk_mod.TruncatedMessageError) as info:
                aerodesk_mod.decode(raw[:cut])
            assert isinstance(info.value, ValueError)
            assert "truncated message" in str(info.value) and "at offset" in str(info.value)


def test_truncation_inside_nested_groups_and_var_data(features: ModuleType) -> None:
    raw = features.Everything.encode_bytes(
        symbol="X",
        side="Buy",
        level="Low",
        triple=(0, 0, 0),
        price={"mantissa": 1},
        point=(0, 0),
        tagged={"side": "Buy", "where": (0, 0), "flags": 0, "label": ""},
        weight=0.0,
        late=0,
        legs=[
            {"qty": 1, "side": "Buy", "fills": [{"px": {"mantissa": 2}, "venueRef": b"ab"}], "legNote": "n"}
        ],
        blob=b"x",
        comment="c",
        **{"class": 0},
    )
    for cut in range(len(raw)):
        with pytest.raises(features.TruncatedMessageError):
            features.decode(memoryview(raw)[:cut])


def test_unknown_template_carries_the_header(aerodesk_mod: ModuleType) -> None:
    raw = bytearray(_samples(aerodesk_mod)[0])
    struct.pack_into("<H", raw, 2, 999)
    with pytest.raises(aerodesk_mod.UnknownTemplateError) as info:
        aerodesk_mod.decode(raw)
    assert isinstance(info.value, ValueError)
    assert info.value.header.templateId == 999 and info.value.header.schemaId == aerodesk_mod.SCHEMA_ID
    assert "unknown template id 999" in str(info.value)


def test_other_schema_id_is_refused(aerodesk_mod: ModuleType) -> None:
    raw = bytearray(_samples(aerodesk_mod)[0])
    struct.pack_into("<H", raw, 4, 1)
    with pytest.raises(aerodesk_mod.SchemaMismatchError, match="schema id 1"):
        aerodesk_mod.decode(raw)


def test_class_decode_refuses_another_template(aerodesk_mod: ModuleType) -> None:
    with pytest.raises(aerodesk_mod.TemplateMismatchError, match="expected ExecutionReport"):
        aerodesk_mod.ExecutionReport.decode(_samples(aerodesk_mod)[0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"qty": None}, "NewOrder.qty: required value missing"),
        ({"qty": 2**63}, "NewOrder.qty: 9223372036854775808 is out of range"),
        ({"qty": 1.5}, "NewOrder.qty: expected an integer"),
        ({"side": "Up"}, "NewOrder.side: 'Up' is not a value of Side"),
        ({"flags": ["postOnly", "sideways"]}, "NewOrder.flags: 'sideways' is not a choice of OrderFlags"),
        (
            {"operator": {"user": "x" * 17, "host": "h", "pid": 1, "tool": "t"}},
            "OperatorIdentity.user: 17 bytes",
        ),
        ({"operator": {"user": "é", "host": "h", "pid": 1, "tool": "t"}}, "cannot be encoded as ascii"),
        ({"venueId": 70000}, "NewOrder.venueId: 70000 is out of range"),
    ],
)
def test_encode_errors_name_the_field(aerodesk_mod: ModuleType, change: dict, message: str) -> None:
    m = aerodesk_mod
    values = dict(
        correlationId=1,
        clientId=2,
        strategyId=3,
        clOrdId=4,
        orderId=0,
        instrumentId=6,
        venueId=1,
        side="Buy",
        ordType="Limit",
        timeInForce="GTC",
        flags=0,
        price=None,
        qty=5,
        sendTs=1,
        triggerTs=2,
        operator=m.OperatorIdentity(user="u", host="h", pid=1, tool="t"),
    )
    values.update(change)
    buf = bytearray(512)
    with pytest.raises(m.EncodeError) as info:
        m.NewOrder.encode(buf, 0, **values)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_required_field_is_reported(aerodesk_mod: ModuleType) -> None:
    with pytest.raises(aerodesk_mod.EncodeError, match=r"Trade\.qty: required value missing"):
        aerodesk_mod.Trade.encode(
            bytearray(128),
            0,
            instrumentId=1,
            seq=1,
            tradeId=1,
            exchangeTs=1,
            receiveTs=1,
            publishTs=1,
            price=1,
            aggressorSide="Buy",
        )


def test_group_entries_of_the_wrong_shape_are_refused(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    buf = bytearray(1024)
    with pytest.raises(m.EncodeError, match=r"bids\[1\]: 4 values for an entry of 3"):
        m.BookSnapshot.encode(buf, 0, 1, 2, 3, 4, 5, 6, [(1, 2, 3), (3, 4, 5, 6)], [])
    # 2 + 4 values make two entries' worth: still refused, entry by entry
    with pytest.raises(m.EncodeError, match=r"bids\[0\].orderCount: required value missing"):
        m.BookSnapshot.encode(buf, 0, 1, 2, 3, 4, 5, 6, [(1, 2), (3, 4, 5, 6)], [])
    with pytest.raises(m.EncodeError, match=r"bids\[0\].qty: required value missing"):
        m.BookSnapshot.encode(buf, 0, 1, 2, 3, 4, 5, 6, [(1,)], [])
    with pytest.raises(m.EncodeError, match=r"asks\[0\]: unknown name"):
        m.BookSnapshot.encode(buf, 0, 1, 2, 3, 4, 5, 6, [], [{"price": 1, "qty": 2, "count": 3}])


def test_var_data_longer_than_its_maximum_is_refused(aerodesk_mod: ModuleType) -> None:
    with pytest.raises(aerodesk_mod.EncodeError, match="exceed the maximum length 4096"):
        aerodesk_mod.ControlAck.encode(bytearray(8000), 0, 1, 2, "Done", "None", 3, "x" * 4097)


def test_buffer_too_small_or_read_only(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    levels = [(1, 2, 3)] * 4
    need = len(m.BookSnapshot.encode_bytes(1, 2, 3, 4, 5, 6, levels, levels))
    with pytest.raises(m.BufferTooSmallError, match=f"needs {need} bytes at offset 10"):
        m.BookSnapshot.encode(bytearray(need + 9), 10, 1, 2, 3, 4, 5, 6, levels, levels)
    ba = bytearray(need)
    assert m.BookSnapshot.encode(ba, 0, 1, 2, 3, 4, 5, 6, levels, levels) == need == len(ba)
    with pytest.raises(m.EncodeError, match="read-only"):
        m.BookSnapshot.encode(bytes(need), 0, 1, 2, 3, 4, 5, 6, levels, levels)
    with pytest.raises(m.EncodeError, match="offset"):
        m.BookSnapshot.encode(bytearray(need + 8), -8, 1, 2, 3, 4, 5, 6, levels, levels)


def test_text_with_room_only_for_the_fixed_part_does_not_grow_the_buffer(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    buf = bytearray(8 + m.ControlAck.BLOCK_LENGTH + 2 + 3)
    with pytest.raises(m.BufferTooSmallError):
        m.ControlAck.encode(buf, 0, 1, 2, "Done", "None", 3, "four")
    assert len(buf) == 8 + m.ControlAck.BLOCK_LENGTH + 5
    assert m.ControlAck.encode(buf, 0, 1, 2, "Done", "None", 3, "thr") == len(buf)


@settings(max_examples=300, deadline=None)
@given(
    raw=st.binary(max_size=300), which=st.integers(0, 3), cut=st.integers(0, 400), flip=st.integers(0, 400)
)
def test_decoding_any_bytes_gives_a_view_or_an_sbe_error(
    aerodesk_mod: ModuleType, raw: bytes, which: int, cut: int, flip: int
) -> None:
    m = aerodesk_mod
    for data in (raw, _mutated(_samples(m)[which], cut, flip)):
        try:
            view = m.decode(data)
        except m.SbeError:
            continue
        assert view.encoded_length <= len(data)
        view.to_dict()  # every field converts without raising


def _mutated(raw: bytes, cut: int, flip: int) -> bytes:
    b = bytearray(raw[: max(8, cut % (len(raw) + 1))])
    if b:
        b[flip % len(b)] ^= 0xA5
    return bytes(b)


def test_large_groups_round_trip_and_truncate(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    bids = [(i, i + 1, i % 7) for i in range(1000)]
    asks = [(-i, 2 * i, 1) for i in range(300)]
    raw = m.BookSnapshot.encode_bytes(1, 2, 3, 4, 5, 6, bids, asks)
    buf = bytearray(len(raw))
    assert m.BookSnapshot.encode(buf, 0, 1, 2, 3, 4, 5, 6, bids, asks) == len(raw) and bytes(buf) == raw
    view = m.decode(raw)
    assert view.bids.rows() == bids and view.asks.rows() == asks and view.encoded_length == len(raw)
    with pytest.raises(m.TruncatedMessageError):
        m.decode(raw[:-1])
    huge = m.BookSnapshot.encode_bytes(1, 2, 3, 4, 5, 6, bids * 4, [])  # beyond encode_bytes' 64 KiB scratch
    assert len(huge) > 1 << 16 and m.decode(huge).bids.rows() == bids * 4
    bad = bytearray(raw[:200])
    struct.pack_into("<H", bad, 8 + m.BookSnapshot.BLOCK_LENGTH + 2, 60_000)  # a count the bytes cannot hold
    with pytest.raises(m.TruncatedMessageError, match="60000 entries"):
        m.decode(bytes(bad))


def test_header_helpers_refuse_short_buffers_and_bad_offsets(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    with pytest.raises(m.TruncatedMessageError, match="header at offset 2 needs 8 bytes, only 6 left"):
        m.decode_header(bytes(8), 2)
    with pytest.raises(m.SbeError, match="offset must be a non-negative int"):
        m.decode(bytes(64), -1)
    with pytest.raises(m.BufferTooSmallError):
        m.encode_header(bytearray(7), 0, 1, 2)


def test_enum_fields_accept_members_names_and_raw_values_alike(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    base = (1, 2, 3, 4, 5, 6, 7, 8)
    by_member = m.Trade.encode_bytes(*base, m.Side.Sell)
    assert m.Trade.encode_bytes(*base, "Sell") == by_member == m.Trade.encode_bytes(*base, 2)
    unknown = m.decode(m.Trade.encode_bytes(*base, 7)).aggressorSide  # kept raw, decodes as unknown
    assert unknown.is_unknown and int(unknown) == 7
    with pytest.raises(m.EncodeError, match="out of range"):
        m.Trade.encode_bytes(*base, 256)
