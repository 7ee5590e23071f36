"""The committed codecs of our schema: current with the XML, self-contained, exported by the facade."""

from __future__ import annotations

import ast
import sys

import numpy as np

from core.codec import messages
from core.codec.generated import aerodesk_sbe
from core.codec.project import GENERATED_DIR, REGENERATE_COMMAND, generated_source

ALLOWED_IMPORTS = {"__future__", "enum", "math", "struct", "threading", "operator", "numpy"}


def test_committed_codecs_are_current_with_the_schema() -> None:
    committed = (GENERATED_DIR / "aerodesk_sbe.py").read_text()
    assert committed == generated_source(), (
        f"core/codec/generated/aerodesk_sbe.py is stale against core/codec/schema/aerodesk.xml "
        f"(or the generator changed). Regenerate with:\n    {REGENERATE_COMMAND}"
    )


def test_generated_module_is_self_contained() -> None:
    tree = ast.parse((GENERATED_DIR / "aerodesk_sbe.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            imported.add((node.module or "").split(".")[0])
    assert imported <= ALLOWED_IMPORTS, imported - ALLOWED_IMPORTS
    assert not (imported - ALLOWED_IMPORTS - set(sys.stdlib_module_names) - {"numpy"})


def test_facade_exports_the_generated_api() -> None:
    for name in (
        "NewOrder",
        "ExecutionReport",
        "BookSnapshot",
        "Side",
        "OrdType",
        "TimeInForce",
        "OrdStatus",
        "ExecType",
        "Reason",
        "BookSide",
        "RiskEventType",
        "KillAction",
        "AckStatus",
        "QueryType",
        "DaemonState",
        "FeedStatus",
        "decode",
        "MESSAGES",
        "SCHEMA_ID",
        "SCHEMA_VERSION",
        "HEADER_SIZE",
        "decode_header",
        "UnknownTemplateError",
        "TruncatedMessageError",
        "OperatorIdentity",
        "Decimal64",
    ):
        assert getattr(messages, name) is getattr(aerodesk_sbe, name), name
    assert messages.SCHEMA_ID == 7001
    assert messages.Side.Buy == 1 and messages.Side.Sell == 2
    assert messages.Reason["None"] is messages.Reason.None_ == 0
    assert messages.MESSAGES[20] is messages.NewOrder


def test_group_run_reads_as_numpy_with_the_entry_dtype() -> None:
    m = messages
    bids = [(6_500_000 - i, 10 + i, i % 3) for i in range(7)]
    raw = m.BookSnapshot.encode_bytes(1, 2, 3, 4, 5, 6, bids, [])
    start = m.HEADER_SIZE + m.BookSnapshot.BLOCK_LENGTH + 4
    arr = np.frombuffer(raw, dtype=m.BookSnapshot_bids.BLOCK_DTYPE, count=len(bids), offset=start)
    assert arr["price"].tolist() == [b[0] for b in bids]
    assert arr["qty"].tolist() == [b[1] for b in bids] and arr["orderCount"].tolist() == [b[2] for b in bids]
    msg = m.decode(raw)
    assert msg.bids.rows() == bids
    assert (msg.bids.to_numpy() == arr).all()
    block = np.frombuffer(raw, dtype=m.BookSnapshot.BLOCK_DTYPE, count=1, offset=m.HEADER_SIZE)
    assert block["instrumentId"][0] == 1 and block["publishTs"][0] == 6


def test_views_compare_and_convert() -> None:
    m = messages
    raw = m.BookSnapshot.encode_bytes(1, 2, 3, 4, 5, 6, [(1, 2, 3)], [(4, 5, 6)])
    a, b = m.decode(raw), m.BookSnapshot.decode(raw)
    assert a == b and hash(a) == hash(b)
    assert a.bids[0].price == 1 and next(iter(a.asks)).orderCount == 6 and a.asks.rows() == [(4, 5, 6)]
    assert a.asks == list(b.asks) and a.bids != a.asks
    assert a.header == m.MessageHeader(44, 1, 7001, 1)
    assert a.to_dict()["bids"] == [{"price": 1, "qty": 2, "orderCount": 3}]
    assert "BookSnapshot(instrumentId=1" in repr(a)


def test_wire_ready_values_take_the_fast_paths() -> None:
    """Ints, enum members, bytes, composite instances and entry tuples: no generic-path fallback."""
    m = messages
    op = m.OperatorIdentity(user="ops", host="h1", pid=7, tool="cli")
    d = m.Decimal64(12345, -2)
    cases = [
        (
            m.NewOrder,
            (1, 2, 3, 4, 0, 6, 1, m.Side.Buy, m.OrdType.Limit, m.TimeInForce.GTC, 0, None, 5, 1, 2, op),
        ),
        (m.BookSnapshot, (1, 2, 3, 4, 5, 6, [(1, 2, 3)] * 5, [(4, 5, 6)] * 3)),
        (m.BookDelta, (1, 2, 3, 4, 5, 6, [(m.BookSide.Bid, 1, 2, 3)])),
        (m.Trade, (1, 2, 3, 4, 5, 6, 7, 8, m.Side.Sell)),
        (m.ControlAck, (1, 2, m.AckStatus.Done, m.Reason.None_, 3, "ok")),
        (m.KillSwitch, (1, 2, m.KillAction.Engage, 3, op, "stop")),
        (m.AccountState, (1, 2, d, d, d, d, d, 3, m.BoolFlag.True_, 4)),
        (
            m.Heartbeat,
            (1, "oms", 42, m.DaemonState.Running, 1, 2, 0, [("orders", 5), (b"fills", 7)], "default"),
        ),
        (m.PositionsSnapshot, (1, 2, 3, [(1, 2, 3, -4, d, d, d, d, None), (1, 2, 3, 4, d, d, d, d, 99)])),
        (m.RiskSnapshot, (1, 2, 3, m.BoolFlag.False_, d, [("maxQty", 0, 0, d, d)], "")),
        (
            m.OrdersSnapshot,
            (
                1,
                2,
                3,
                [
                    (
                        1,
                        2,
                        3,
                        4,
                        1,
                        m.Side.Buy,
                        m.OrdType.Market,
                        m.TimeInForce.IOC,
                        m.OrdStatus.New,
                        None,
                        5,
                        0,
                        5,
                        6,
                        7,
                    )
                ],
            ),
        ),
    ]
    buf = bytearray(1024)
    for cls, args in cases:
        before = dict(m.CODEC_STATS)
        n = cls.encode(buf, 0, *args)
        view = m.decode(buf, 0)
        assert before == m.CODEC_STATS, f"{cls.NAME} fell back to the generic path"
        assert bytes(buf[:n]) == cls.encode_bytes(*args) and type(view) is cls and view.encoded_length == n
