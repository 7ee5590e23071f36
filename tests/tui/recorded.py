"""A fixed desk session as encoded bus messages, for the model tests and the snapshot tests.

Every message is encoded with the real generated codec (core.codec.messages) exactly as the daemons
publish it, and folded through the same entry points the bus worker uses (raw market-data frames,
decoded state and health messages). Clocks are fixed, so the resulting view is the same every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.codec.messages import (
    AccountState,
    BookDelta,
    BookSide,
    BookSnapshot,
    BoolFlag,
    DaemonState,
    Decimal64,
    ExecType,
    ExecutionReport,
    Heartbeat,
    KillSwitchState,
    LatencySample,
    OperatorIdentity,
    OrderFlags,
    OrdStatus,
    OrdType,
    PositionUpdate,
    Reason,
    RiskEvent,
    RiskEventType,
    RiskSnapshot,
    Side,
    TimeInForce,
    Trade,
    decode,
)
from core.instruments import load_instruments
from tui.model.desk import DeskModel, ModelConfig

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z, the session's wall clock start
MONO0 = 5_000_000_000_000  # the TUI's monotonic clock at the start
BTC, ETH, PERP = 1, 2, 3
OPERATOR = OperatorIdentity(user="trader", host="desk1", pid=4242, tool="tui")
SYSTEM = OperatorIdentity(user="", host="", pid=0, tool="")


@dataclass(frozen=True)
class Frame:
    stream: str  # market_data | state | heartbeats
    payload: bytes
    mono_ns: int  # when the TUI received it


def d64(mantissa: int, exponent: int = 0) -> Decimal64:
    return Decimal64(mantissa, exponent)


def book_snapshot(iid: int, seq: int, ts: int, bids: list, asks: list) -> bytes:
    return BookSnapshot.encode_bytes(
        instrumentId=iid,
        seq=seq,
        venueSeq=0,
        exchangeTs=ts,
        receiveTs=ts,
        publishTs=ts,
        bids=[(p, q, 1) for p, q in bids],
        asks=[(p, q, 1) for p, q in asks],
    )


def book_delta(iid: int, seq: int, ts: int, levels: list) -> bytes:
    return BookDelta.encode_bytes(
        instrumentId=iid,
        seq=seq,
        venueSeq=0,
        exchangeTs=ts,
        receiveTs=ts,
        publishTs=ts,
        levels=[(side, p, q, 1) for side, p, q in levels],
    )


def trade(iid: int, seq: int, ts: int, price: int, qty: int, side: Side) -> bytes:
    return Trade.encode_bytes(
        instrumentId=iid,
        seq=seq,
        tradeId=seq,
        exchangeTs=ts,
        receiveTs=ts,
        publishTs=ts,
        price=price,
        qty=qty,
        aggressorSide=side,
    )


def heartbeat(role: str, pid: int, ts: int, seq: int, counters: list, strategy_id: int = 0) -> bytes:
    return Heartbeat.encode_bytes(
        ts=ts,
        role=role,
        pid=pid,
        state=DaemonState.Running,
        seq=seq,
        startedTs=T0 - 600_000_000_000,
        strategyId=strategy_id,
        counters=counters,
        instance="demo",
    )


def execution_report(
    *,
    order_id: int,
    strategy_id: int,
    iid: int,
    side: Side,
    price: int,
    qty: int,
    status: OrdStatus,
    exec_type: ExecType,
    cum: int = 0,
    last_px: int | None = None,
    last_qty: int = 0,
    ts: int,
    seq: int,
    avg: Decimal64 | None = None,
    fee: Decimal64 | None = None,
) -> bytes:
    return ExecutionReport.encode_bytes(
        orderId=order_id,
        clOrdId=1000 + order_id,
        origClOrdId=0,
        strategyId=strategy_id,
        clientId=100,
        correlationId=0,
        instrumentId=iid,
        venueId=1,
        venueOrderId=f"V{order_id}",
        execId=order_id * 10 + seq,
        execType=exec_type,
        ordStatus=status,
        side=side,
        ordType=OrdType.Limit,
        timeInForce=TimeInForce.GTC,
        flags=OrderFlags(0),
        price=price,
        qty=qty,
        lastPx=last_px,
        lastQty=last_qty,
        cumQty=cum,
        leavesQty=0 if status in (OrdStatus.Filled, OrdStatus.Canceled) else qty - cum,
        avgPx=avg or d64(0),
        fee=fee or d64(0),
        reason=Reason(0),
        transactTs=ts,
        ts=ts,
        seq=seq,
        text="",
    )


def position(
    strategy_id: int,
    iid: int,
    net: int,
    avg: Decimal64,
    realized: Decimal64,
    unrealized: Decimal64,
    mark: int,
    ts: int,
    seq: int,
) -> bytes:
    return PositionUpdate.encode_bytes(
        accountId=1,
        strategyId=strategy_id,
        instrumentId=iid,
        netQty=net,
        avgPx=avg,
        realizedPnl=realized,
        unrealizedPnl=unrealized,
        fees=d64(125, -2),
        markPx=mark,
        ts=ts,
        seq=seq,
    )


def session(kill_engaged: bool = False) -> list[Frame]:
    """The fixed session: three books, a market maker's orders and fills, positions, risk, health."""
    out: list[Frame] = []
    ms = 1_000_000

    def add(stream: str, payload: bytes, at_ms: int) -> None:
        out.append(Frame(stream, payload, MONO0 + at_ms * ms))

    # Market data: BTC-USD at 60000.00 (price exponent -2, qty exponent -4)
    add(
        "market_data",
        book_snapshot(
            BTC,
            1,
            T0,
            bids=[(6000000 - 50 * i, 1500 + 100 * i) for i in range(12)],
            asks=[(6000050 + 50 * i, 1200 + 150 * i) for i in range(12)],
        ),
        0,
    )
    add(
        "market_data",
        book_snapshot(
            ETH,
            1,
            T0,
            bids=[(300000 - 5 * i, 2000 + i) for i in range(12)],
            asks=[(300005 + 5 * i, 1800 + i) for i in range(12)],
        ),
        0,
    )
    add(
        "market_data",
        book_snapshot(
            PERP,
            1,
            T0,
            bids=[(600100 - 5 * i, 40 + i) for i in range(12)],
            asks=[(600105 + 5 * i, 35 + i) for i in range(12)],
        ),
        0,
    )
    add(
        "market_data",
        book_delta(BTC, 2, T0 + 10 * ms, [(BookSide.Bid, 6000000, 900), (BookSide.Ask, 6000050, 0)]),
        10,
    )
    add("market_data", trade(BTC, 3, T0 + 20 * ms, 6000100, 250, Side.Buy), 20)
    add(
        "market_data",
        book_delta(BTC, 4, T0 + 30 * ms, [(BookSide.Ask, 6000100, 950), (BookSide.Bid, 6000020, 300)]),
        30,
    )
    add("market_data", trade(BTC, 5, T0 + 40 * ms, 6000000, 100, Side.Sell), 40)
    add("market_data", trade(ETH, 2, T0 + 45 * ms, 300005, 500, Side.Buy), 45)

    # The oms: the market maker's two quotes on BTC-USD, one filled, and its positions.
    seq = 0

    def state(payload: bytes, at_ms: int) -> None:
        add("state", payload, at_ms)

    seq += 1
    state(
        execution_report(
            order_id=11,
            strategy_id=1,
            iid=BTC,
            side=Side.Buy,
            price=6000020,
            qty=500,
            status=OrdStatus.New,
            exec_type=ExecType.New,
            ts=T0 + 50 * ms,
            seq=seq,
        ),
        50,
    )
    seq += 1
    state(
        execution_report(
            order_id=12,
            strategy_id=1,
            iid=BTC,
            side=Side.Sell,
            price=6000100,
            qty=500,
            status=OrdStatus.New,
            exec_type=ExecType.New,
            ts=T0 + 51 * ms,
            seq=seq,
        ),
        51,
    )
    seq += 1
    state(
        execution_report(
            order_id=13,
            strategy_id=3,
            iid=ETH,
            side=Side.Buy,
            price=299990,
            qty=1000,
            status=OrdStatus.New,
            exec_type=ExecType.New,
            ts=T0 + 52 * ms,
            seq=seq,
        ),
        52,
    )
    seq += 1
    state(
        execution_report(
            order_id=12,
            strategy_id=1,
            iid=BTC,
            side=Side.Sell,
            price=6000100,
            qty=500,
            status=OrdStatus.PartiallyFilled,
            exec_type=ExecType.Trade,
            cum=200,
            last_px=6000100,
            last_qty=200,
            ts=T0 + 60 * ms,
            seq=seq,
            avg=d64(6000100, -2),
            fee=d64(6, -1),
        ),
        60,
    )
    seq += 1
    state(
        execution_report(
            order_id=10,
            strategy_id=1,
            iid=BTC,
            side=Side.Buy,
            price=5999950,
            qty=300,
            status=OrdStatus.Filled,
            exec_type=ExecType.Trade,
            cum=300,
            last_px=5999950,
            last_qty=300,
            ts=T0 + 61 * ms,
            seq=seq,
            avg=d64(5999950, -2),
            fee=d64(9, -1),
        ),
        61,
    )
    seq += 1
    state(position(1, BTC, 100, d64(5999950, -2), d64(300, -2), d64(5, -1), 6000025, T0 + 62 * ms, seq), 62)
    seq += 1
    state(
        position(3, ETH, -2500, d64(300010, -2), d64(-1250, -2), d64(375, -2), 300002, T0 + 63 * ms, seq), 63
    )
    seq += 1
    state(position(0, BTC, 100, d64(5999950, -2), d64(300, -2), d64(5, -1), 6000025, T0 + 62 * ms, seq), 64)
    seq += 1
    state(
        AccountState.encode_bytes(
            accountId=1,
            ts=T0 + 70 * ms,
            realizedPnl=d64(-950, -2),
            unrealizedPnl=d64(425, -2),
            dailyPnl=d64(-525, -2),
            grossExposure=d64(1350003, -2),
            netExposure=d64(-150002, -2),
            openOrders=3,
            killEngaged=BoolFlag(1 if kill_engaged else 0),
            seq=seq,
        ),
        70,
    )
    state(
        KillSwitchState.encode_bytes(
            ts=T0 + 71 * ms,
            engaged=BoolFlag(1 if kill_engaged else 0),
            changedTs=T0 + 71 * ms if kill_engaged else 0,
            workingOrders=3,
            operator=OPERATOR if kill_engaged else SYSTEM,
            reason="stop: fat finger on ETH" if kill_engaged else "",
        ),
        71,
    )
    seq += 1
    state(
        RiskEvent.encode_bytes(
            ts=T0 + 72 * ms,
            eventType=RiskEventType.CheckFired,
            reason=Reason.MaxOrderQty,
            strategyId=3,
            instrumentId=ETH,
            clOrdId=77,
            correlationId=0,
            value=d64(50),
            limit=d64(20),
            operator=SYSTEM,
            seq=seq,
            text="order refused",
        ),
        72,
    )
    if kill_engaged:
        seq += 1
        state(
            RiskEvent.encode_bytes(
                ts=T0 + 73 * ms,
                eventType=RiskEventType.KillEngaged,
                reason=Reason.Operator,
                strategyId=0,
                instrumentId=0,
                clOrdId=0,
                correlationId=0,
                value=d64(0),
                limit=d64(0),
                operator=OPERATOR,
                seq=seq,
                text="stop: fat finger on ETH",
            ),
            73,
        )

    # Health: every daemon beats; the strategy host publishes tick-to-order samples.
    for i, (role, pid) in enumerate((("md", 101), ("oms", 102), ("exec-sim", 103), ("strategies", 104))):
        add(
            "heartbeats",
            heartbeat(role, pid, T0 + 80 * ms, 40, [(f"{role}.sent", 1000 * (i + 1)), (f"{role}.errors", 0)]),
            80 + i,
        )
    for k in range(20):
        md_ts = T0 + (90 + k) * ms
        add(
            "heartbeats",
            LatencySample.encode_bytes(
                ts=md_ts + 500_000,
                strategyId=1,
                clOrdId=2000 + k,
                mdPublishTs=md_ts,
                strategySendTs=md_ts + 40_000 + 1_000 * k,
                omsAcceptTs=md_ts + 90_000 + 2_000 * k,
                venueAckTs=md_ts + 400_000 + 5_000 * k,
            ),
            90 + k,
        )
    return out


RISK_SNAPSHOT = dict(
    limits=[
        ("max_order_qty", 0, BTC, d64(2), d64(5, -2)),
        ("max_position", 1, BTC, d64(5), d64(1, -2)),
        ("max_gross_exposure", 0, 0, d64(1000000), d64(1350003, -2)),
        ("daily_loss", 0, 0, d64(-5000), d64(-525, -2)),
        ("max_open_orders", 0, 0, d64(50), d64(3)),
    ]
)


def risk_snapshot(kill_engaged: bool = False) -> bytes:
    return RiskSnapshot.encode_bytes(
        correlationId=1,
        clientId=7,
        ts=T0 + 75_000_000,
        killEngaged=BoolFlag(1 if kill_engaged else 0),
        dailyPnl=d64(-525, -2),
        limits=RISK_SNAPSHOT["limits"],
        killReason="stop: fat finger on ETH" if kill_engaged else "",
    )


def fold(model: DeskModel, frames: list[Frame]) -> None:
    """Feed frames through the same entry points as the bus worker."""
    for f in frames:
        if f.stream == "market_data":
            template = int.from_bytes(f.payload[2:4], "little")
            model.on_md_frame(f.payload, template, f.mono_ns)
        elif f.stream == "state":
            model.on_state(decode(f.payload), f.mono_ns)
        else:
            model.on_health(decode(f.payload), f.mono_ns)
    model.end_batch(T0 + 200_000_000)


def recorded_model(kill_engaged: bool = False, config: ModelConfig | None = None) -> DeskModel:
    model = DeskModel(load_instruments(), "demo", config, wall_clock=_fixed_wall())
    model.set_connected(True, MONO0)
    model.notice("information", "connected to desk demo")
    fold(model, session(kill_engaged))
    model.on_risk_snapshot([decode(risk_snapshot(kill_engaged))])
    model.resync_wanted = ""
    return model


def _fixed_wall() -> Callable[[], int]:
    return lambda: T0 + 100_000_000


VIEW_MONO = MONO0 + 200_000_000  # the fixed "now" of views of the recorded model
VIEW_WALL = T0 + 200_000_000
