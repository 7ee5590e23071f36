"""Builders for strategy tests: SBE market-data and state messages (decoded views, as the host gets them
from the bus), a host on a simulated clock, and an in-process desk (real oms and sim venue)."""

from __future__ import annotations

from decimal import Decimal

from core.agent.clock import SimulatedClock
from core.backtest.desk import InProcessDesk
from core.codec.messages import (
    BookDelta,
    BookSnapshot,
    Decimal64,
    ExecType,
    ExecutionReport,
    FeedState,
    OrdStatus,
    OrdType,
    PositionUpdate,
    Reason,
    Side,
    TimeInForce,
    Trade,
    decode,
)
from core.instruments import load_instruments
from core.risk.config import RiskConfig, StrategyConfig
from core.sim.config import SimVenueConfig
from core.strategy import HostConfig, HostIdentity, RequestCollector, StrategyHost, strategy_spec

CATALOG = load_instruments()
BTC = CATALOG.by_id(1)  # px 1e-2, qty 1e-4
ETH = CATALOG.by_id(2)  # px 1e-2, qty 1e-3
T0 = 1_700_000_000_000_000_000
MS = 1_000_000
SEC = 1_000_000_000
RECORDER = "tests.core.strategy.strategies:Recorder"
VENUE_IDS = {"sim": 1}


# -- market data -----------------------------------------------------------------------------------
def snapshot(iid: int, bids, asks, *, seq: int = 0, publish_ts: int = 0):
    return decode(
        BookSnapshot.encode_bytes(
            instrumentId=iid,
            seq=seq,
            venueSeq=seq,
            exchangeTs=publish_ts,
            receiveTs=publish_ts,
            publishTs=publish_ts,
            bids=[(p, q, 1) for p, q in bids],
            asks=[(p, q, 1) for p, q in asks],
        )
    )


def delta(iid: int, levels, *, seq: int = 0, publish_ts: int = 0):
    """levels: (side 1 bid / 2 ask, price, new qty)."""
    return decode(
        BookDelta.encode_bytes(
            instrumentId=iid,
            seq=seq,
            venueSeq=seq,
            exchangeTs=publish_ts,
            receiveTs=publish_ts,
            publishTs=publish_ts,
            levels=[(s, p, q, 1) for s, p, q in levels],
        )
    )


def trade(iid: int, price: int, qty: int, aggressor: Side = Side.Buy, *, seq: int = 0, publish_ts: int = 0):
    return decode(
        Trade.encode_bytes(
            instrumentId=iid,
            seq=seq,
            tradeId=seq,
            exchangeTs=publish_ts,
            receiveTs=publish_ts,
            publishTs=publish_ts,
            price=price,
            qty=qty,
            aggressorSide=aggressor,
        )
    )


def feed_state(iid: int, status: int):
    return decode(
        FeedState.encode_bytes(
            instrumentId=iid, ts=0, status=status, expectedSeq=0, receivedSeq=0, gapCount=1, text="gap"
        )
    )


# -- state from the oms ----------------------------------------------------------------------------
def report(
    request,
    exec_type: ExecType,
    status: OrdStatus,
    *,
    order_id: int = 0,
    cl_ord_id: int | None = None,
    orig_cl_ord_id: int = 0,
    last_qty: int = 0,
    last_px: int | None = None,
    cum_qty: int = 0,
    leaves_qty: int = 0,
    reason: Reason = Reason(0),
    exec_id: int = 0,
    price: int | None = None,
    qty: int | None = None,
    strategy_id: int | None = None,
):
    """An ExecutionReport as the oms sends it, answering `request` (a decoded NewOrder)."""
    return decode(
        ExecutionReport.encode_bytes(
            orderId=order_id,
            clOrdId=request.clOrdId if cl_ord_id is None else cl_ord_id,
            origClOrdId=orig_cl_ord_id,
            strategyId=request.strategyId if strategy_id is None else strategy_id,
            clientId=request.clientId,
            correlationId=request.correlationId,
            instrumentId=request.instrumentId,
            venueId=1,
            venueOrderId="",
            execId=exec_id,
            execType=exec_type,
            ordStatus=status,
            side=getattr(request, "side", Side.Buy),
            ordType=getattr(request, "ordType", OrdType.Limit),
            timeInForce=getattr(request, "timeInForce", TimeInForce.GTC),
            flags=0,
            price=getattr(request, "price", None) if price is None else price,
            qty=getattr(request, "qty", 0) if qty is None else qty,
            lastPx=last_px,
            lastQty=last_qty,
            cumQty=cum_qty,
            leavesQty=leaves_qty,
            avgPx=Decimal64(0, 0),
            fee=Decimal64(0, 0),
            reason=reason,
            transactTs=0,
            ts=0,
            seq=exec_id,
            text="",
        )
    )


def position_update(strategy_id: int, iid: int, net: int, *, seq: int, realized: str = "0"):
    d = Decimal(realized)
    sign, digits, exp = d.as_tuple()
    mantissa = int("".join(map(str, digits))) * (-1 if sign else 1)
    return decode(
        PositionUpdate.encode_bytes(
            accountId=1,
            strategyId=strategy_id,
            instrumentId=iid,
            netQty=net,
            avgPx=Decimal64(0, 0),
            realizedPnl=Decimal64(mantissa, int(exp)),
            unrealizedPnl=Decimal64(0, 0),
            fees=Decimal64(0, 0),
            markPx=None,
            ts=0,
            seq=seq,
        )
    )


# -- hosts -----------------------------------------------------------------------------------------
def make_host(*specs, config: HostConfig | None = None, start: int = T0):
    clock = SimulatedClock(start)
    out = RequestCollector()
    host = StrategyHost(
        specs,
        catalog=CATALOG,
        clock=clock,
        outputs=out,
        config=config or HostConfig(),
        identity=HostIdentity("test-host", 4242, "test"),
        venue_ids=VENUE_IDS,
    )
    host.start()
    return host, clock, out


def recorder(name: str = "rec", sid: int = 1, **params):
    params.setdefault("instrument", "BTC-USD")
    return strategy_spec(name, sid, RECORDER, params, CATALOG)


def feed(host, msg) -> None:
    host.on_message(msg.TEMPLATE_ID, msg)


# -- a desk: real oms and sim venue ----------------------------------------------------------------
def permissive_risk() -> RiskConfig:
    """No limits but a wide price band (strategy_limits adds some)."""
    cfg = RiskConfig()
    cfg.fx = {"USDT": Decimal(1)}
    cfg.limits.set("price_band_bps", 0, 0, Decimal(1000))
    return cfg


def make_desk(
    *specs, risk: RiskConfig | None = None, start: int = T0, latency_us: int = 100, **kw
) -> InProcessDesk:
    clock = SimulatedClock(start)
    desk = InProcessDesk(
        specs,
        catalog=CATALOG,
        risk=risk or permissive_risk(),
        instruments=[BTC, ETH],
        sim_config=SimVenueConfig(order_latency_ns=latency_us * 1000, report_latency_ns=latency_us * 1000),
        venue_ids=VENUE_IDS,
        clock=clock,
        **kw,
    )
    desk.start()
    return desk


def strategy_limits(cfg: RiskConfig, sid: int, iid: int = 0, **limits: str) -> RiskConfig:
    if sid not in cfg.strategies:
        cfg.strategies[sid] = StrategyConfig(sid, f"s{sid}", 1)
    for name, value in limits.items():
        cfg.limits.set(name, sid, iid, Decimal(value))
    return cfg
