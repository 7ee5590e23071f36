"""The fast paths against the generic path: decode reads a message whose shape repeats with one unpack
of that shape, encode packs with direct calls of at most 30 arguments, the end of the message first.
Whatever the order of messages and shapes, both paths must give the same views and the same bytes,
and every error must be the generic path's."""

from __future__ import annotations

import random
import struct
import threading
from collections.abc import Callable
from types import ModuleType

import pytest

OP = {"user": "u1", "host": "h1", "pid": 7, "tool": "t"}


def _new_order(m: ModuleType, price: int | None = 100) -> bytes:
    op = m.OperatorIdentity(**OP)
    return m.NewOrder.encode_bytes(
        1, 2, 3, 4, 0, 6, 1, m.Side.Buy, m.OrdType.Limit, m.TimeInForce.GTC, 0, price, 5, 1, 2, op
    )


def _execution_report(m: ModuleType, text: object = "", avg: object = None) -> bytes:
    avg = m.Decimal64(6_512_300, -2) if avg is None else avg
    return m.ExecutionReport.encode_bytes(
        *(1, 2, 0, 3, 4, 5, 6, 7, "V-1", 9),
        *(m.ExecType.Trade, m.OrdStatus.Filled, m.Side.Sell, m.OrdType.Limit, m.TimeInForce.IOC, 0),
        *(1, 2, None, 4, 5, 6, avg, m.Decimal64(-1_302, -4), m.Reason["None"], 1, 2, 3, text),
    )


def _book(m: ModuleType, bids: int, asks: int, first_price: int = 100) -> bytes:
    return m.BookSnapshot.encode_bytes(
        1,
        2,
        3,
        4,
        5,
        6,
        [(first_price + i, 10 + i, i % 4) for i in range(bids)],
        [(first_price + 50 + i, 20 + i, 1) for i in range(asks)],
    )


def _stream(m: ModuleType) -> list[bytes]:
    """Messages of every kind of shape: fixed, var data (empty, short, multi-byte), groups of entries
    given as wire values (empty, one, many, above the cached maximum) and entries to convert."""
    return [
        _new_order(m),
        _new_order(m, None),
        _execution_report(m),
        _execution_report(m, "partial fill"),
        _execution_report(m, "äöü ok"),
        _execution_report(m, b"raw"),
        _book(m, 0, 0),
        _book(m, 1, 0),
        _book(m, 20, 20),
        _book(m, 20, 19),
        _book(m, 300, 2),
        m.Heartbeat.encode_bytes(1, "oms", 42, "Running", 1, 2, 0, [("orders", 5), ("fills", 7)], "default"),
        m.Heartbeat.encode_bytes(1, "md", 43, "Running", 1, 2, 0, [], ""),
        m.Trade.encode_bytes(1, 2, 3, 4, 5, 6, 7, 8, m.Side.Sell),
    ]


def _schema(package: str, schema_id: int, byte_order: str, messages: str) -> str:
    """A schema of the standard message header and group dimension, and `messages`."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sbe:messageSchema xmlns:sbe="http://fixprotocol.io/2016/sbe" package="{package}" id="{schema_id}"
                   version="0" byteOrder="{byte_order}">
  <types>
    <composite name="messageHeader">
      <type name="blockLength" primitiveType="uint16"/><type name="templateId" primitiveType="uint16"/>
      <type name="schemaId" primitiveType="uint16"/><type name="version" primitiveType="uint16"/>
    </composite>
    <composite name="groupSizeEncoding">
      <type name="blockLength" primitiveType="uint16"/><type name="numInGroup" primitiveType="uint16"/>
    </composite>
  </types>
  {messages}
</sbe:messageSchema>"""


def _same_view(a: object, b: object) -> None:
    assert type(a) is type(b)
    assert a.encoded_length == b.encoded_length  # type: ignore[attr-defined]
    assert a.header == b.header  # type: ignore[attr-defined]
    assert a == b and a.to_dict() == b.to_dict()  # type: ignore[attr-defined]


def test_a_mixed_stream_decodes_like_the_generic_path_without_falling_back(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    raws = _stream(m)
    buf = bytearray()
    offsets = []
    for raw in raws:  # one buffer, messages back to back at unaligned offsets
        buf += b"\xee" * 3
        offsets.append(len(buf))
        buf += raw
    oracle = [m._decode_generic(buf, o) for o in offsets]  # the generic path, read once up front
    order = [i for i in range(len(raws)) for _ in range(12)]  # each shape repeated: read directly
    order += list(reversed(range(len(raws))))  # every decode a new shape
    order += random.Random(7).choices(range(len(raws)), k=200)
    before = dict(m.CODEC_STATS)
    for i in order:
        _same_view(m.decode(buf, offsets[i]), oracle[i])
    assert before == m.CODEC_STATS, "a message of the stream took the generic path"


def test_a_message_of_another_shape_is_not_read_with_the_last_one(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    m.decode(_book(m, 1, 1))
    # two bids, the second one's price laid out like the (1, 1) shape's ask dimension (20, 1)
    tricky = _book(m, 2, 1, first_price=(1 << 16 | 20) - 1)
    view = m.decode(tricky)
    _same_view(view, m._decode_generic(tricky))
    assert len(view.bids) == 2 and len(view.asks) == 1
    m.decode(_execution_report(m, ""))
    longer = _execution_report(m, "ab")
    assert m.decode(longer).text == "ab"


def test_a_short_buffer_after_a_long_message(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    m.decode(_book(m, 20, 20))  # the last shape is longer than what follows
    raw = _new_order(m)
    _same_view(m.decode(raw), m._decode_generic(raw))
    with pytest.raises(m.TruncatedMessageError, match="message header"):
        m.decode(raw[:5])
    m.decode(raw)
    with pytest.raises(m.TruncatedMessageError, match="NewOrder block"):
        m.decode(raw[:-1])


@pytest.mark.parametrize("last", ["NewOrder", "ExecutionReport", "BookSnapshot"])
def test_errors_are_the_generic_paths_whatever_was_decoded_last(aerodesk_mod: ModuleType, last: str) -> None:
    m = aerodesk_mod
    raw = {
        "NewOrder": _new_order,
        "ExecutionReport": _execution_report,
        "BookSnapshot": lambda m: _book(m, 2, 2),
    }[last](m)
    m.decode(raw)
    padded = bytes(64) + raw
    with pytest.raises(m.SbeError, match="offset must be a non-negative int"):
        m.decode(padded, -len(raw))  # pack/unpack_from would read from the end: refused
    unknown = bytearray(raw)
    struct.pack_into("<H", unknown, 2, 999)
    with pytest.raises(m.UnknownTemplateError) as info:
        m.decode(bytes(unknown))
    assert info.value.header.templateId == 999
    other = bytearray(raw)
    struct.pack_into("<H", other, 4, 1)
    with pytest.raises(m.SchemaMismatchError):
        m.decode(bytes(other))
    older = bytearray(raw)
    struct.pack_into("<H", older, 6, 0)  # same bytes at acting version 0: the generic path's semantics
    before = m.CODEC_STATS["decode_fallbacks"]
    view = m.decode(bytes(older))
    assert view.acting_version == 0 and m.CODEC_STATS["decode_fallbacks"] == before + 1
    assert m.decode(raw).acting_version == m.SCHEMA_VERSION


@pytest.mark.parametrize(
    "encode",
    [
        lambda m, buf: m.NewOrder.encode(
            buf, 0, 1, 2, 3, 4, 0, 6, 1, 1, 2, 1, 0, 100, 5, 1, 2, m.OperatorIdentity(**OP)
        ),
        lambda m, buf: m.ExecutionReport.encode(
            buf,
            0,
            *(1, 2, 0, 3, 4, 5, 6, 7, "V-1", 9, 1, 2, 1, 2, 1, 0, 1, 2, None, 4, 5, 6),
            *(m.Decimal64(1, -2), m.Decimal64(3, -4), 0, 1, 2, 3, "some text"),
        ),
        lambda m, buf: m.BookSnapshot.encode(buf, 0, 1, 2, 3, 4, 5, 6, [(1, 2, 3)] * 20, [(4, 5, 6)] * 20),
    ],
    ids=["NewOrder", "ExecutionReport", "BookSnapshot20"],
)
def test_a_buffer_too_short_is_refused_before_a_byte_is_written(
    aerodesk_mod: ModuleType, encode: Callable[[ModuleType, bytearray], int]
) -> None:
    m = aerodesk_mod
    need = encode(m, bytearray(4096))
    buf = bytearray(b"\xaa" * (need - 1))
    with pytest.raises(m.BufferTooSmallError):
        encode(m, buf)
    assert buf == bytearray(b"\xaa" * (need - 1)), "the fast path wrote part of the message"
    exact = bytearray(need)
    assert encode(m, exact) == need


@pytest.mark.parametrize("text", ["", b"", None, "fill", b"fill", bytearray(b"fill"), "ünï", "bad \udcff"])
def test_var_data_in_any_form_writes_the_generic_bytes(aerodesk_mod: ModuleType, text: object) -> None:
    m = aerodesk_mod
    raw = _execution_report(m, text)
    args = m._call_values(m.ExecutionReport, (), m.decode(raw).to_dict())
    args[-1] = text
    assert raw == m._encode_message_bytes(m.ExecutionReport, args)
    decoded = m.decode(raw).text
    if isinstance(text, str):
        assert decoded == text
    else:
        assert decoded == bytes(text or b"").decode()


def test_flat_composites_in_any_form_and_the_wrong_shape(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    forms = [m.Decimal64(12, -3), (12, -3), [12, -3], {"mantissa": 12, "exponent": -3}]
    raws = {_execution_report(m, "", form) for form in forms}
    assert len(raws) == 1
    assert m.decode(raws.pop()).avgPx == m.Decimal64(12, -3)
    for bad in [(1, 2, 3), (1,), ()]:
        with pytest.raises(m.EncodeError, match="avgPx"):
            _execution_report(m, "", bad)


@pytest.mark.parametrize("counts", [(0, 0), (1, 0), (0, 1), (5, 3), (256, 1), (257, 0), (700, 700)])
def test_group_shapes_write_the_generic_bytes(aerodesk_mod: ModuleType, counts: tuple[int, int]) -> None:
    """Unrolled per shape up to 256 entries, looped and uncached above."""
    m = aerodesk_mod
    bids = [(i, i + 1, i % 5) for i in range(counts[0])]
    asks = [[-i, 2 * i, m.BookSide.Ask] for i in range(counts[1])]  # lists and enum members too
    buf = bytearray(40_000)
    n = m.BookSnapshot.encode(buf, 5, 1, 2, 3, 4, 5, 6, bids, asks)
    raw = m._encode_message_bytes(m.BookSnapshot, [1, 2, 3, 4, 5, 6, bids, asks])
    assert bytes(buf[5 : 5 + n]) == raw
    view = m.decode(buf, 5)
    assert view.bids.rows() == bids and view.asks.rows() == [tuple(a) for a in asks]


def test_wide_entries_beyond_the_unroll_limit_are_looped_but_cached(
    generate: Callable[[str], ModuleType],
) -> None:
    fields = "".join(f'<field name="f{i}" id="{i + 1}" type="int32"/>' for i in range(12))
    mod = generate(
        _schema(
            "wide",
            5,
            "bigEndian",
            f"""<sbe:message name="Wide" id="1">
    <field name="a" id="1" type="uint8"/>
    <group name="lines" id="10">{fields}</group>
  </sbe:message>""",
        )
    )
    for count in (3, 200):  # 36 values are unrolled; 2,400 exceed the unroll limit
        rows = [tuple(range(i, i + 12)) for i in range(count)]
        buf = bytearray(12_000)
        n = mod.Wide.encode(buf, 0, 9, rows)
        assert bytes(buf[:n]) == mod._encode_message_bytes(mod.Wide, [9, rows])
        assert mod.decode(buf).lines.rows() == rows
    unrolled = "<sbe shape encoder>"  # the file name of the unrolled encoders' source
    assert mod._SC_Wide[3].__code__.co_filename == unrolled
    assert mod._SC_Wide[200].__code__.co_filename != unrolled  # cached all the same


def test_shape_caches_stay_bounded(aerodesk_mod: ModuleType) -> None:
    m = aerodesk_mod
    buf = bytearray(4096)
    for i in range(600):
        m.BookSnapshot.encode(buf, 0, 1, 2, 3, 4, 5, 6, [(1, 2, 3)] * (i % 30), [(4, 5, 6)] * (i // 30))
        m.decode(buf)
    assert 0 < len(m._SC_BookSnapshot) <= 512 and 0 < len(m._SCD_BookSnapshot) <= 512


def test_threads_decoding_different_messages_each_get_their_own(aerodesk_mod: ModuleType) -> None:
    """The shape tried first is one tuple, replaced whole: a thread never mixes another's struct
    with its own message."""
    m = aerodesk_mod
    raws = _stream(m)
    oracle = [m._decode_generic(raw) for raw in raws]
    errors: list[str] = []

    def work(k: int) -> None:
        for i in range(3000):
            j = (i * (k + 1)) % len(raws)
            if m.decode(raws[j]) != oracle[j]:
                errors.append(f"thread {k} message {j}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _promote(m: ModuleType, raw: bytes) -> None:
    """Decodes `raw` until its message is read with its shape directly (counts the decodes it takes)."""
    key = m._hkey(raw, 0)[0]
    for n in range(1, 100):
        m.decode(raw)
        if m._FAST_DECODE[key] is not m._DECODERS[key]:
            assert n >= 2
            return
    raise AssertionError("the shape was never read directly")


def test_a_message_is_read_with_its_shape_once_that_shape_repeats(aerodesk_mod: ModuleType) -> None:
    """Per message, not per stream: the decoder until the same shape came again several times for that
    message (messages of other templates between them change nothing), then one unpack of that shape;
    another shape of that message puts the decoder back."""
    m = aerodesk_mod
    a, b = _execution_report(m, ""), _execution_report(m, "ab")
    key = m._hkey(a, 0)[0]
    decoder = m._DECODERS[key]
    m.decode(b)  # whatever the state was: not a's shape, so the decoder reads the shapes from here
    assert m._FAST_DECODE[key] is decoder
    for _ in range(50):  # a length that changes every message: its shape is read first, never guessed
        m.decode(a)
        m.decode(b)
        assert m._FAST_DECODE[key] is decoder
    others = [_new_order(m), _book(m, 1, 1), m.Trade.encode_bytes(1, 2, 3, 4, 5, 6, 7, 8, m.Side.Sell)]
    for i in range(50):  # a mixed stream: messages of other templates between the reports
        m.decode(others[i % 3])
        m.decode(a)
        if m._FAST_DECODE[key] is not decoder:
            break
    spec = m._FAST_DECODE[key]
    assert spec[5] is m.ExecutionReport and spec[3] >= 0  # the shape's values, not the reader's -1
    slot = m.ExecutionReport.TEMPLATE_ID
    assert m._DIRECT[slot] is spec  # both ways to the message's entry hold the same one
    before = dict(m.CODEC_STATS)
    _same_view(m.decode(a), m._decode_generic(a))
    assert m._FAST_DECODE[key] is spec
    _same_view(m.decode(b), m._decode_generic(b))  # another length: its shape is read, the decoder back
    assert m._FAST_DECODE[key] is decoder and m._DIRECT[slot] is decoder
    assert m.CODEC_STATS["encode_fallbacks"] == before["encode_fallbacks"]
    assert m.CODEC_STATS["decode_fallbacks"] == before["decode_fallbacks"] + 2  # the two oracles only


def test_a_shorter_shape_in_an_exact_buffer_after_a_repeated_longer_one(aerodesk_mod: ModuleType) -> None:
    """The repeated shape is longer than the buffer: the message is read by its own shape on the fast
    path (not the generic one), and a truncated message still reports where."""
    m = aerodesk_mod
    long_, short = _book(m, 20, 20), _book(m, 1, 1)
    key = m._hkey(long_, 0)[0]
    _promote(m, long_)
    oracle = m._decode_generic(short)
    before = m.CODEC_STATS["decode_fallbacks"]
    _same_view(m.decode(short), oracle)
    assert m.CODEC_STATS["decode_fallbacks"] == before
    assert m._FAST_DECODE[key] is m._DECODERS[key]
    _promote(m, short)
    with pytest.raises(m.TruncatedMessageError, match="BookSnapshot"):
        m.decode(short[:-1])


class _HeaderReads:
    """Counts the module's separate header reads (the keyed way to a message's entry)."""

    def __init__(self, m: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = m._hkey

        def counted(buffer: object, offset: int = 0) -> tuple:
            self.count += 1
            return real(buffer, offset)

        monkeypatch.setattr(m, "_hkey", counted)


def test_a_message_is_found_by_its_template_id_byte_and_its_header_read_once(
    aerodesk_mod: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The low byte of the template id picks the entry; the header read with the message confirms
    it: a fixed-size message, or a repeated shape, is read without a separate header read."""
    m = aerodesk_mod
    order, report = _new_order(m), _execution_report(m, "ab")
    _promote(m, report)
    reads = _HeaderReads(m, monkeypatch)
    for raw in (order, report, order):
        _same_view(m.decode(raw), m._decode_generic(raw))
    assert reads.count == 0
    # a header the entry does not match (another version of the message) goes the keyed way
    newer = bytearray(order)
    struct.pack_into("<H", newer, 6, m.SCHEMA_VERSION + 1)
    view = m.decode(bytes(newer))
    assert reads.count == 1
    _same_view(view, m._decode_generic(bytes(newer)))


class _BufferOnly:
    """A buffer that cannot be indexed, as pyaeron's BufferView (the buffer protocol only)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __buffer__(self, flags: int) -> memoryview:
        return memoryview(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_a_buffer_that_cannot_be_indexed_takes_the_keyed_way_not_the_generic_path(
    aerodesk_mod: ModuleType,
) -> None:
    m = aerodesk_mod
    raws = _stream(m)
    before = m.CODEC_STATS["decode_fallbacks"]
    for raw in raws:
        assert m.decode(_BufferOnly(raw)) == m.decode(raw)
    assert m.CODEC_STATS["decode_fallbacks"] == before


@pytest.mark.parametrize("order", ["littleEndian", "bigEndian"])
def test_templates_sharing_their_low_byte_are_told_apart_by_their_header(
    generate: Callable[[str], ModuleType], order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids 1 and 257 share their low byte: neither takes the byte (keyed way, one header read); id 2
    owns its byte in either byte order (no header read)."""
    m = generate(
        _schema(
            "shared",
            9,
            order,
            """<sbe:message name="A" id="1"><field name="x" id="1" type="int64"/></sbe:message>
  <sbe:message name="B" id="257"><field name="y" id="1" type="int32"/></sbe:message>
  <sbe:message name="C" id="2"><field name="z" id="1" type="uint8"/></sbe:message>""",
        )
    )
    a, b, c = m.A.encode_bytes(-5), m.B.encode_bytes(7), m.C.encode_bytes(9)
    assert m._DIRECT[1] is None and m._DIRECT[2] is not None
    reads = _HeaderReads(m, monkeypatch)
    assert (m.decode(a).x, m.decode(b).y) == (-5, 7)
    assert reads.count == 2
    assert m.decode(c).z == 9
    assert reads.count == 2
    assert m.CODEC_STATS["decode_fallbacks"] == 0
