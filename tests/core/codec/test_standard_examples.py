"""Conformance with the SBE standard: the wire dumps of its examples chapter (07Examples.md) decode to
the values their bytes carry and re-encode to the same bytes. The hex is read from the chapter at test
time; expected values are read straight from the bytes at the offsets the schema gives (the prose
tables beside the dumps have known errata, so they are not used)."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from types import ModuleType

import pytest

SOFH_SIZE = 6
SBE_LE = 0xEB50


def wire_dumps(md: str) -> list[bytes]:
    """Each hex dump following a 'Wire format' heading, ASCII column dropped."""
    dumps = []
    for block in re.findall(r"### Wire format[^\n]*\n(?:[^\n]*\n)*?```\n(.*?)```", md, re.S):
        hexpart = "".join(line.split(":", 1)[0] for line in block.splitlines())
        dumps.append(bytes.fromhex(hexpart))
    return dumps


@pytest.fixture(scope="module")
def messages(shared_data: Path) -> dict[int, bytes]:
    """SBE messages of the chapter by template id, SOFH checked and removed."""
    dumps = wire_dumps((shared_data / "sbe-spec" / "07Examples.md").read_text())
    assert len(dumps) == 3, "the examples chapter has three wire dumps"
    out = {}
    for frame in dumps:
        length, encoding = struct.unpack(">IH", frame[:SOFH_SIZE])
        assert length == len(frame) and encoding == SBE_LE
        body = frame[SOFH_SIZE:]
        out[struct.unpack_from("<H", body, 2)[0]] = body
    return out


def _chars(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("ascii")


def _i(raw: bytes, fmt: str) -> int:
    return struct.unpack("<" + fmt, raw)[0]


def test_new_order_single_decodes_to_its_bytes(examples_mod: ModuleType, messages: dict[int, bytes]) -> None:
    raw = messages[99]
    b = raw[8:]  # block after the 8-byte header
    msg = examples_mod.decode(raw)
    assert type(msg) is examples_mod.NewOrderSingle
    assert (msg.header.blockLength, msg.header.templateId, msg.header.schemaId, msg.header.version) == (
        54,
        99,
        91,
        0,
    )
    assert msg.ClOrdId == _chars(b[0:8]) == "ORD00001"
    assert msg.Account == _chars(b[8:16]) == "ACCT01"
    assert msg.Symbol == _chars(b[16:24]) == "GEM4"
    assert msg.Side is examples_mod.sideEnum.Buy and b[24:25] == b"1"
    assert msg.TransactTime == _i(b[25:33], "Q")
    assert msg.OrderQty.mantissa == _i(b[33:37], "i") == 7 and msg.OrderQty.exponent == 0
    assert msg.OrdType is examples_mod.ordTypeEnum.Limit and b[37:38] == b"2"
    assert msg.Price.mantissa == _i(b[38:46], "q") == 99610 and msg.Price.exponent == -3
    assert msg.StopPx.mantissa is None  # int64 null on the wire
    assert b[46:54] == struct.pack("<q", -(2**63))
    assert msg.encoded_length == len(raw)


def test_execution_report_with_group_decodes_to_its_bytes(
    examples_mod: ModuleType, messages: dict[int, bytes]
) -> None:
    raw = messages[98]
    b = raw[8:]
    msg = examples_mod.decode(raw)
    assert type(msg) is examples_mod.ExecutionReport
    assert msg.OrderID == _chars(b[0:8]) == "O0000001"
    assert msg.ExecID == _chars(b[8:16]) == "EXEC0000"
    assert msg.ExecType is examples_mod.execTypeEnum.Trade and b[16:17] == b"F"
    assert msg.OrdStatus is examples_mod.ordStatusEnum.PartialFilled and b[17:18] == b"1"
    assert msg.Symbol == _chars(b[18:26]) == "GEM4"
    mmy = msg.MaturityMonthYear
    assert (mmy.year, mmy.month, mmy.day, mmy.week) == struct.unpack("<HBBB", b[26:31])
    assert (mmy.year, mmy.month) == (2014, 6)
    assert msg.Side is examples_mod.sideEnum.Buy
    assert msg.LeavesQty.mantissa == _i(b[32:36], "i") == 1
    assert msg.CumQty.mantissa == _i(b[36:40], "i") == 6
    assert msg.TradeDate == _i(b[40:42], "H")
    block_length, count = struct.unpack("<HH", b[42:46])
    assert (block_length, count) == (12, 2)
    fills = list(msg.FillsGrp)
    assert len(fills) == 2
    for i, fill in enumerate(fills):
        entry = b[46 + 12 * i : 58 + 12 * i]
        assert fill.FillPx.mantissa == _i(entry[0:8], "q")
        assert fill.FillPx.exponent == -3
        assert fill.FillQty.mantissa == _i(entry[8:12], "i")
    assert [f.FillPx.mantissa for f in fills] == [99610, 99620]
    assert [f.FillQty.mantissa for f in fills] == [2, 4]
    assert msg.encoded_length == len(raw)


def test_business_reject_with_var_data_decodes_to_its_bytes(
    examples_mod: ModuleType, messages: dict[int, bytes]
) -> None:
    raw = messages[97]
    b = raw[8:]
    msg = examples_mod.decode(raw)
    assert type(msg) is examples_mod.BusinessMessageReject
    assert msg.BusinesRejectRefId == _chars(b[0:8]) == "ORD00001"
    assert msg.BusinessRejectReason is examples_mod.businessRejectReasonEnum.NotAuthorized
    n = _i(b[9:11], "H")
    assert msg.Text == b[11 : 11 + n] == b"Not authorized to trade that instrument"
    assert msg.encoded_length == len(raw) == 8 + 9 + 2 + n


@pytest.mark.parametrize("template_id", [97, 98, 99])
def test_examples_re_encode_to_the_same_bytes(
    examples_mod: ModuleType, messages: dict[int, bytes], template_id: int
) -> None:
    raw = messages[template_id]
    msg = examples_mod.decode(raw)
    cls = type(msg)
    assert cls.encode_bytes(**msg.to_dict()) == raw
    buf = bytearray(len(raw) + 4)
    n = cls.encode(buf, 4, *[getattr(msg, name) for name in cls._META.names])
    assert n == len(raw) and bytes(buf[4:]) == raw
