"""Schema evolution: acting version and acting block length (old <-> new encoders and decoders)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from types import ModuleType

import pytest


def schema_xml(version: int, byte_order: str = "littleEndian") -> str:
    v2 = version >= 2
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sbe:messageSchema xmlns:sbe="http://fixprotocol.io/2016/sbe" package="evolve" id="42" version="{version}"
                   byteOrder="{byte_order}">
  <types>
    <composite name="messageHeader">
      <type name="blockLength" primitiveType="uint16"/><type name="templateId" primitiveType="uint16"/>
      <type name="schemaId" primitiveType="uint16"/><type name="version" primitiveType="uint16"/>
    </composite>
    <composite name="groupSizeEncoding">
      <type name="blockLength" primitiveType="uint16"/><type name="numInGroup" primitiveType="uint16"/>
    </composite>
    <composite name="varString">
      <type name="length" primitiveType="uint16"/>
      <type name="varData" primitiveType="uint8" length="0" characterEncoding="UTF-8"/>
    </composite>
    <enum name="Color" encodingType="uint8">
      <validValue name="Red">1</validValue><validValue name="Blue">2</validValue>
    </enum>
  </types>
  <sbe:message name="Order" id="1">
    <field name="a" id="1" type="uint32"/>
    <field name="b" id="2" type="int64"/>
    {'<field name="c" id="3" type="int32" sinceVersion="2"/>' if v2 else ""}
    {'<field name="color" id="4" type="Color" sinceVersion="2"/>' if v2 else ""}
    <group name="fills" id="10">
      <field name="px" id="1" type="int64"/>
      {'<field name="venue" id="2" type="uint16" sinceVersion="2"/>' if v2 else ""}
    </group>
    <data name="note" id="20" type="varString"/>
    {'<data name="memo" id="21" type="varString" sinceVersion="2"/>' if v2 else ""}
  </sbe:message>
  <sbe:message name="Book" id="2">
    <field name="a" id="1" type="uint32"/>
    <group name="bids" id="10"><field name="px" id="1" type="int64"/></group>
    {'<group name="asks" id="11" sinceVersion="2">' if v2 else "<!--"}
      <field name="px" id="1" type="int64"/>
    {"</group>" if v2 else "-->"}
  </sbe:message>
</sbe:messageSchema>"""


@pytest.fixture(scope="module")
def v1(generate: Callable[[str], ModuleType]) -> ModuleType:
    return generate(schema_xml(1))


@pytest.fixture(scope="module")
def v2(generate: Callable[[str], ModuleType]) -> ModuleType:
    return generate(schema_xml(2))


def test_new_decoder_reads_old_message_with_newer_fields_null(v1: ModuleType, v2: ModuleType) -> None:
    raw = v1.Order.encode_bytes(a=7, b=-5, fills=[(100,), (101,)], note="hi")
    msg = v2.decode(raw)
    assert msg.acting_version == 1
    assert msg.header.blockLength == 12 and v2.Order.BLOCK_LENGTH == 17
    assert (msg.a, msg.b) == (7, -5)
    assert msg.c is None and msg.color is None  # newer than the acting version: null
    assert [f.px for f in msg.fills] == [100, 101]
    assert [f.venue for f in msg.fills] == [None, None]  # entries stepped by the group's own blockLength
    assert msg.note == "hi"
    assert msg.memo is None  # var data newer than the acting version: absent
    assert msg.encoded_length == len(raw)
    d = msg.to_dict()
    assert (
        d["c"] is None
        and d["memo"] is None
        and d["fills"] == [{"px": 100, "venue": None}, {"px": 101, "venue": None}]
    )


def test_new_decoder_gives_empty_group_for_a_group_newer_than_the_message(
    v1: ModuleType, v2: ModuleType
) -> None:
    raw = v1.Book.encode_bytes(a=1, bids=[(5,), (6,)])
    msg = v2.decode(raw)
    assert [b.px for b in msg.bids] == [5, 6]
    assert len(msg.asks) == 0 and list(msg.asks) == []
    assert msg.encoded_length == len(raw)


def test_old_decoder_skips_unknown_trailing_fields_by_block_length(v1: ModuleType, v2: ModuleType) -> None:
    raw = v2.Order.encode_bytes(
        a=9, b=2**40, c=-3, color="Blue", fills=[(7, 1), (8, 2), (9, 3)], note="n", memo="m"
    )
    msg = v1.decode(raw)
    assert msg.acting_version == 2
    assert (msg.a, msg.b) == (9, 2**40)
    assert [f.px for f in msg.fills] == [7, 8, 9]  # entry blockLength 10 from the dimension, not 8
    assert msg.note == "n"
    # the old schema knows nothing after `note`: its view ends there (memo's bytes are not its to read)
    assert msg.encoded_length == len(raw) - (2 + 1)


def test_decoding_uses_the_acting_block_length_even_at_the_same_version(v2: ModuleType) -> None:
    """A sender whose block is padded to 20 bytes (larger blockLength): fields read, padding skipped."""
    good = bytearray(v2.Order.encode_bytes(a=1, b=2, c=3, color=1, fills=[(4, 5)], note="x", memo=""))
    block = good[8 : 8 + 17]
    padded = bytearray(struct.pack("<HHHH", 20, 1, 42, 2)) + block + b"\xee\xee\xee" + good[8 + 17 :]
    msg = v2.decode(bytes(padded))
    assert (msg.a, msg.b, msg.c, msg.color) == (1, 2, 3, v2.Color.Red)
    assert [(f.px, f.venue) for f in msg.fills] == [(4, 5)]
    assert msg.note == "x" and msg.memo == ""
    assert msg.encoded_length == len(padded)


def test_block_shorter_than_a_field_reads_that_field_as_absent(v2: ModuleType) -> None:
    """blockLength 14 at version 2 cuts `color` and half of `c`: both absent, never garbage."""
    raw = bytearray(v2.Order.encode_bytes(a=1, b=2, c=3, color=1, fills=[], note="", memo=""))
    struct.pack_into("<H", raw, 0, 14)
    cut = bytes(raw[: 8 + 14]) + bytes(raw[8 + 17 :])
    msg = v2.decode(cut)
    assert (msg.a, msg.b, msg.c, msg.color) == (1, 2, None, None)
    assert len(msg.fills) == 0 and msg.note == "" and msg.memo == ""


def test_old_and_new_encoders_write_their_own_version(v1: ModuleType, v2: ModuleType) -> None:
    assert struct.unpack_from("<HHHH", v1.Order.encode_bytes(a=0, b=0))[1:] == (1, 42, 1)
    assert struct.unpack_from("<HHHH", v2.Order.encode_bytes(a=0, b=0, c=0, color=1)) == (17, 1, 42, 2)


def test_fast_path_is_used_only_for_the_exact_header(v2: ModuleType) -> None:
    raw = v2.Order.encode_bytes(a=1, b=2, c=3, color=1, fills=[(1, 2)], note="a", memo="b")
    before = dict(v2.CODEC_STATS)
    v2.decode(raw)
    assert v2.CODEC_STATS["decode_fallbacks"] == before["decode_fallbacks"]
    old = bytearray(raw)
    struct.pack_into("<H", old, 6, 1)  # same bytes, acting version 1
    msg = v2.decode(bytes(old))
    assert v2.CODEC_STATS["decode_fallbacks"] == before["decode_fallbacks"] + 1
    assert msg.c is None and msg.memo is None
