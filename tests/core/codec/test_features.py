"""SBE features beyond the project's schema: custom header order, offsets and blockLength padding,
constants, optional nulls, char enums, sets, arrays, refs in composites, nested groups with var data,
both byte orders, the pre-standard namespace. Expected bytes come from `struct` with the schema's
offsets, not from the codec."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from types import ModuleType

import numpy as np
import pytest

from tests.core.codec.features_schema import features_xml

ORDERS = {"littleEndian": "<", "bigEndian": ">"}


@pytest.fixture(scope="module", params=sorted(ORDERS))
def fx(request: pytest.FixtureRequest, generate: Callable[[str], ModuleType]) -> tuple[ModuleType, str]:
    return generate(features_xml(request.param)), ORDERS[request.param]


def _values(mod: ModuleType) -> dict:
    return dict(
        symbol="ABC",
        side=mod.Side.Buy,
        level=mod.Level.High,
        flags=mod.Flags.a | mod.Flags.None_,
        small=5,
        ratio=0.25,
        weight=1.5,
        raw=b"\x01\x02",
        triple=(1, -2, 3),
        price={"mantissa": 123456},
        point=(3, -4),
        tagged={"side": "Sell", "where": {"x": 1, "y": 2}, "flags": ["b"], "label": "xyz"},
        qty=None,
        maybeLevel=None,
        late=77,
        legs=[
            {
                "qty": 10,
                "side": "Buy",
                "fills": [{"px": {"mantissa": 5}, "venueRef": b"\x09"}],
                "legNote": "é1",
            },
            {"qty": 20, "side": "Sell", "fills": [], "legNote": ""},
        ],
        blob=b"\x00\xff",
        comment="hello",
        **{"class": 9},
    )


def test_layout_follows_offsets_padding_and_byte_order(fx: tuple[ModuleType, str]) -> None:
    mod, o = fx
    raw = mod.Everything.encode_bytes(**_values(mod))
    assert struct.unpack_from(o + "HHHH", raw, 0) == (5, 900, 3, 120)  # header members in schema order
    b = raw[8 : 8 + 120]
    assert b[0:6] == b"ABC\0\0\0"
    assert b[6:7] == b"B"  # char enum
    assert b[7:8] == b"\0"  # gap before level's offset 8
    assert struct.unpack_from(o + "H", b, 8)[0] == 1000
    assert struct.unpack_from(o + "H", b, 10)[0] == (1 << 0) | (1 << 15)
    assert b[12] == 5
    assert struct.unpack_from(o + "d", b, 13)[0] == 0.25
    assert struct.unpack_from(o + "f", b, 21)[0] == 1.5
    assert b[25:29] == b"\x01\x02\0\0"
    assert struct.unpack_from(o + "3i", b, 29) == (1, -2, 3)
    assert b[41:48] == bytes(7)  # padding before price at offset 48
    assert struct.unpack_from(o + "q", b, 48)[0] == 123456
    assert struct.unpack_from(o + "h2xh", b, 56) == (3, -4)
    assert b[62:63] == b"S" and struct.unpack_from(o + "h2xh", b, 64) == (1, 2)
    assert struct.unpack_from(o + "H", b, 70)[0] == 1 << 5 and b[72:75] == b"xyz"
    assert struct.unpack_from(o + "i", b, 75)[0] == -(2**31)  # optional int32 null
    assert struct.unpack_from(o + "H", b, 79)[0] == 0xFFFF  # optional enum: the encoding's null
    assert b[81] == 9 and struct.unpack_from(o + "I", b, 82)[0] == 77
    assert b[86:120] == bytes(34)  # blockLength="120" pads the block
    pos = 8 + 120
    assert struct.unpack_from(o + "HH", raw, pos) == (16, 2)  # group blockLength from the attribute


def test_decoded_values(fx: tuple[ModuleType, str]) -> None:
    mod, _ = fx
    msg = mod.decode(mod.Everything.encode_bytes(**_values(mod)))
    assert msg.symbol == "ABC" and msg.side is mod.Side.Buy and msg.level is mod.Level.High
    assert msg.flags == mod.Flags.a | mod.Flags["None"]
    assert (msg.venue, msg.apiVersion, msg.fixedSide) == ("XNAS", 7, mod.Side.Sell)  # constants
    assert msg.small == 5 and msg.ratio == 0.25 and msg.weight == 1.5
    assert msg.raw == b"\x01\x02\0\0" and msg.triple == (1, -2, 3)
    assert (msg.price.mantissa, msg.price.exponent) == (123456, -4)
    assert (msg.point.x, msg.point.y) == (3, -4)
    t = msg.tagged
    assert (t.side, t.where.x, t.where.y, t.label) == (mod.Side.Sell, 1, 2, "xyz")
    assert t.flags == mod.Flags.b
    assert msg.qty is None and msg.maybeLevel is None and getattr(msg, "class") == 9 and msg.late == 77
    legs = list(msg.legs)
    assert [(leg.qty, leg.side) for leg in legs] == [(10, mod.Side.Buy), (20, mod.Side.Sell)]
    assert [f.px.mantissa for f in legs[0].fills] == [5] and legs[0].fills[0].venueRef == b"\x09"
    assert legs[0].legNote == "é1" and legs[1].legNote == "" and len(legs[1].fills) == 0
    assert msg.blob == b"\x00\xff" and msg.comment == "hello"
    d = msg.to_dict()
    assert d["flags"] == {"a": True, "b": False, "None": True}
    assert d["tagged"] == {
        "side": "Sell",
        "where": {"x": 1, "y": 2},
        "flags": {"a": False, "b": True, "None": False},
        "label": "xyz",
    }
    assert d["price"] == {"mantissa": 123456, "exponent": -4}
    assert d["venue"] == "XNAS" and d["fixedSide"] == "Sell" and d["class"] == 9
    assert list(d) == list(mod.Everything._META.names)  # schema order


def test_optional_nulls_decode_as_none_and_explicit_null_values_are_honoured(
    fx: tuple[ModuleType, str],
) -> None:
    mod, o = fx
    values = _values(mod) | {"small": None, "ratio": None, "price": {"mantissa": None}}
    raw = mod.Everything.encode_bytes(**values)
    assert raw[8 + 12] == 0  # nullValue="0" of smallInt
    assert math.isnan(struct.unpack_from(o + "d", raw, 8 + 13)[0])  # double null is NaN
    msg = mod.decode(raw)
    assert msg.small is None and msg.ratio is None and msg.price.mantissa is None


def test_unknown_enum_values_and_set_bits_decode_without_raising(fx: tuple[ModuleType, str]) -> None:
    mod, o = fx
    raw = bytearray(mod.Everything.encode_bytes(**_values(mod)))
    raw[8 + 6] = ord("Z")  # not a Side
    struct.pack_into(o + "H", raw, 8 + 8, 77)  # not a Level
    struct.pack_into(o + "H", raw, 8 + 10, (1 << 0) | (1 << 3))  # bit 3 is no choice
    msg = mod.decode(bytes(raw))
    assert msg.side.is_unknown and int(msg.side) == ord("Z") and isinstance(msg.side, mod.Side)
    assert msg.level.is_unknown and msg.level == 77 and msg.level.name == "UNKNOWN_77"
    assert not mod.Level.High.is_unknown
    assert int(msg.flags) == 9 and mod.Flags.a in msg.flags
    d = msg.to_dict()
    assert d["side"] == ord("Z") and d["level"] == 77
    assert d["flags"] == {"a": True, "b": False, "None": False, "_unknownBits": 8}
    # and the raw values survive a re-encode
    again = mod.Everything.encode_bytes(**d)
    assert mod.decode(again).to_dict() == d


def test_constant_fields_are_checked_when_given(fx: tuple[ModuleType, str]) -> None:
    mod, _ = fx
    assert mod.Everything.encode_bytes(**_values(mod), venue="XNAS", fixedSide="Sell")
    with pytest.raises(mod.EncodeError, match="venue: is the constant"):
        mod.Everything.encode_bytes(**_values(mod), venue="XLON")
    with pytest.raises(mod.EncodeError, match="fixedSide"):
        mod.Everything.encode_bytes(**_values(mod), fixedSide=mod.Side.Buy)


def test_keyword_named_fields_and_members(fx: tuple[ModuleType, str]) -> None:
    mod, _ = fx
    assert mod.Flags.None_ is mod.Flags["None"]
    buf = bytearray(512)
    v = _values(mod)
    n = mod.Everything.encode(buf, 0, **{k if k != "class" else "class_": x for k, x in v.items()})
    assert bytes(buf[:n]) == mod.Everything.encode_bytes(**v)
    assert getattr(mod.decode(buf), "class") == 9


def test_block_dtypes_read_a_run_of_blocks(fx: tuple[ModuleType, str]) -> None:
    mod, o = fx
    raw = mod.Everything.encode_bytes(**_values(mod))
    dt = mod.Everything.BLOCK_DTYPE
    assert dt.itemsize == 120
    arr = np.frombuffer(raw, dtype=dt, count=1, offset=8)
    assert arr["level"][0] == 1000 and arr["symbol"][0] == b"ABC"
    assert arr["triple"][0].tolist() == [1, -2, 3]
    assert arr["price"]["mantissa"][0] == 123456 and arr["tagged"]["where"]["y"][0] == 2
    assert arr["class"][0] == 9
    assert dt["level"].str == o + "u2" and dt["ratio"].str == o + "f8"


def test_pre_standard_namespace_generates_the_same_codec(generate: Callable[[str], ModuleType]) -> None:
    old = generate(features_xml(namespace="http://www.fixprotocol.org/ns/simple/1.0"))
    new = generate(features_xml())
    assert old.Everything.encode_bytes(**_values(old)) == new.Everything.encode_bytes(**_values(new))


def test_header_helpers(fx: tuple[ModuleType, str]) -> None:
    mod, o = fx
    buf = bytearray(16)
    assert mod.encode_header(buf, 2, blockLength=1, templateId=6) == mod.HEADER_SIZE == 8
    h = mod.decode_header(buf, 2)
    assert (h.blockLength, h.templateId, h.schemaId, h.version) == (1, 6, 900, 3)
    assert struct.unpack_from(o + "HHHH", buf, 2) == (6, 900, 3, 1)
    assert mod.SCHEMA_ID == 900 and mod.SCHEMA_VERSION == 3 and mod.BYTE_ORDER in ORDERS
