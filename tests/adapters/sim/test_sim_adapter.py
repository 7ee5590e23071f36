"""The sim venue adapter: instrument provider, synthetic data client, execution client on the wire."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from adapters.sim import (
    NotStartedError,
    SimDataClient,
    SimDataClientConfig,
    SimExecClientConfig,
    SimExecutionClient,
    SimInstrumentProvider,
)
from core.book import BookSide
from core.codec.messages import (
    CancelOrder,
    ExecType,
    ExecutionReport,
    NewOrder,
    OperatorIdentity,
    OrderFlags,
    OrdStatus,
    OrdType,
    Reason,
    ReplaceOrder,
    Side,
    TimeInForce,
    decode,
)
from core.config import configs_dir
from core.config.base import load_toml
from core.market.synthetic import SyntheticMarket
from core.marketdata.events import BookDeltaEvent, BookSnapshotEvent, TradeEvent
from core.sim import CancelRequest, Liquidity, NewOrderRequest, OrderAccepted, OrderFilled

T0 = 1_750_000_000_000_000_000
S = 1_000_000_000
OPERATOR = OperatorIdentity(user="test", host="localhost", pid=1, tool="pytest")


@pytest.fixture(scope="module")
def provider() -> SimInstrumentProvider:
    return SimInstrumentProvider()


def test_provider_lists_the_sim_instruments(provider):
    assert {i.id for i in provider.instruments()} == {1, 2, 3}
    assert provider.resolve("BTC-USD").id == 1 and provider.find("BTCUSDT") is None
    with pytest.raises(KeyError, match="not traded"):
        provider.get(101)
    with pytest.raises(KeyError, match="data venue"):
        SimInstrumentProvider(venue="lobster")


# -- data ------------------------------------------------------------------------------------------


def test_data_client_streams_every_instrument_in_time_order(provider):
    client = SimDataClient(SimDataClientConfig(seed=4), provider)
    with pytest.raises(NotStartedError):
        client.poll(T0)
    opening = client.start(T0)
    assert sorted(e.instrument_id for e in opening) == [1, 2, 3]
    assert all(isinstance(e, BookSnapshotEvent) for e in opening)
    events = []
    for k in range(1, 101):  # ten simulated seconds, polled every 100 ms
        batch = client.poll(T0 + k * S // 10)
        assert all(e.exchange_ts_ns <= T0 + k * S // 10 for e in batch)
        events += batch
    times = [e.exchange_ts_ns for e in events]
    assert times == sorted(times)
    # Lively: book updates at the configured Poisson rates (a few hundred a second in all).
    updates = Counter(e.instrument_id for e in events if isinstance(e, BookDeltaEvent))
    for inst in provider.instruments():
        rate = updates[inst.id] / 10
        expected = client.params[inst.symbol].event_rate_hz
        assert 0.8 * expected < rate < 1.2 * expected, (inst.symbol, rate)
    assert sum(updates.values()) / 10 > 200


def test_data_client_uses_the_venue_config_and_is_reproducible(provider):
    client = SimDataClient(SimDataClientConfig(seed=9, symbols=("ETH-USD",)), provider)
    eth = provider.resolve("ETH-USD")
    raw = load_toml(configs_dir() / "venues.toml")
    start = eth.price_mantissa(raw.data["venues"]["sim"]["markets"]["ETH-USD"]["start_price"])
    assert client.params["ETH-USD"].start_price == start
    got = client.start(T0) + client.poll(T0 + 3 * S)
    alone = SyntheticMarket(eth, client.params["ETH-USD"], seed=9, start_ts_ns=T0)
    assert got == alone.events_until(T0 + 3 * S)
    assert client.snapshot(eth.id).bids == tuple(alone.book.depth(BookSide.BID))


# -- execution on the wire ---------------------------------------------------------------------------


def _new_order(buf: bytearray, **kw) -> object:
    fields = dict(
        correlationId=11, clientId=2, strategyId=3, clOrdId=21, orderId=501, instrumentId=1, venueId=1,
        side=Side.Buy, ordType=OrdType.Limit, timeInForce=TimeInForce.GTC, flags=0, price=6_000_000, qty=5,
        sendTs=0, triggerTs=0, operator=OPERATOR,
    )  # fmt: skip
    fields.update(kw)
    NewOrder.encode(buf, 0, **fields)
    return decode(buf, 0)


def _reports_on_the_wire(client: SimExecutionClient, now: int) -> list[tuple[object, object]]:
    out = []
    for r in client.poll(now):
        buf = bytearray(1024)
        client.encode_report(r, buf, 0)
        out.append((r, ExecutionReport.decode(buf, 0)))
    return out


def test_orders_from_the_bus_and_reports_back(provider):
    client = SimExecutionClient(SimExecClientConfig(account_id=1), provider)
    latency_in, latency_out = provider.config.order_latency_ns, provider.config.report_latency_ns
    client.on_market(BookSnapshotEvent(1, 1, T0, T0, ((5_999_900, 10),), ((6_000_000, 3), (6_000_100, 4))))
    buf = bytearray(512)
    arrival = client.on_new_order(_new_order(buf, qty=5, price=6_000_000), T0)
    assert arrival == T0 + latency_in
    assert client.poll(arrival + latency_out - 1) == []
    wire = _reports_on_the_wire(client, arrival + latency_out)
    (ack, ack_m), (fill, fill_m) = wire
    assert isinstance(ack, OrderAccepted) and isinstance(fill, OrderFilled)
    assert ack_m.execType == ExecType.New and ack_m.ordStatus == OrdStatus.New
    assert (ack_m.orderId, ack_m.clOrdId, ack_m.strategyId, ack_m.clientId, ack_m.correlationId) == (
        501,
        21,
        3,
        2,
        11,
    )
    assert ack_m.venueId == provider.venue_id and ack_m.venueOrderId == str(ack.venue_order_id)
    assert ack_m.transactTs == arrival and ack_m.ts == arrival + latency_out
    assert ack_m.lastPx is None and ack_m.seq + 1 == fill_m.seq
    # 3 of 5 at 60000.00 against the displayed offer; the rest rests at the limit.
    assert fill_m.execType == ExecType.Trade and fill_m.ordStatus == OrdStatus.PartiallyFilled
    assert (fill_m.lastPx, fill_m.lastQty, fill_m.cumQty, fill_m.leavesQty) == (6_000_000, 3, 3, 2)
    assert Decimal(fill_m.avgPx.mantissa).scaleb(fill_m.avgPx.exponent) == Decimal("60000.00")
    # Taker fee at the configured bps on 3 x 0.0001 BTC x 60000 USD = 18 USD.
    expected_fee = Decimal(18) * provider.config.taker_fee_bps / 10_000
    assert Decimal(fill_m.fee.mantissa).scaleb(fill_m.fee.exponent) == expected_fee
    assert fill.liquidity == Liquidity.TAKER and fill_m.execId != ack_m.execId


def test_cancel_and_replace_from_the_bus(provider):
    client = SimExecutionClient(provider=provider)
    buf = bytearray(512)
    client.on_new_order(
        _new_order(buf, clOrdId=1, orderId=10, price=5_000_000, flags=OrderFlags.postOnly), T0
    )
    ReplaceOrder.encode(
        buf, 0, correlationId=12, clientId=2, strategyId=3, clOrdId=2, origClOrdId=1, orderId=10,
        instrumentId=1, venueId=1, price=5_000_100, qty=8, sendTs=0, operator=OPERATOR,
    )  # fmt: skip
    client.on_replace_order(decode(buf, 0), T0 + 10)
    CancelOrder.encode(
        buf, 0, correlationId=13, clientId=2, strategyId=3, clOrdId=3, origClOrdId=2, orderId=10,
        instrumentId=1, venueId=1, sendTs=0, operator=OPERATOR,
    )  # fmt: skip
    client.on_cancel_order(decode(buf, 0), T0 + 20)
    CancelOrder.encode(
        buf, 0, correlationId=14, clientId=2, strategyId=3, clOrdId=4, origClOrdId=2, orderId=10,
        instrumentId=1, venueId=1, sendTs=0, operator=OPERATOR,
    )  # fmt: skip
    client.on_cancel_order(decode(buf, 0), T0 + 30)
    msgs = [m for _, m in _reports_on_the_wire(client, T0 + S)]
    assert [m.execType for m in msgs] == [
        ExecType.New,
        ExecType.Replaced,
        ExecType.Canceled,
        ExecType.CancelRejected,
    ]
    new, replaced, canceled, rejected = msgs
    assert new.flags & OrderFlags.postOnly
    assert (replaced.clOrdId, replaced.origClOrdId, replaced.price, replaced.qty) == (2, 1, 5_000_100, 8)
    assert (canceled.clOrdId, canceled.origClOrdId, canceled.correlationId, canceled.leavesQty) == (
        3,
        2,
        13,
        0,
    )
    assert rejected.reason == Reason.TooLateToCancel and rejected.correlationId == 14
    assert rejected.text.startswith("too late to cancel")


# -- the data client driving the execution client -------------------------------------------------


def test_a_quoting_strategy_on_the_synthetic_market(provider):
    """Two minutes of simulated time: quote one level behind the touch on both sides, requote when
    done. Quotes fill only through the queue model, as makers, at their own price."""
    data = SimDataClient(SimDataClientConfig(seed=1, symbols=("BTC-USD",)), provider)
    exe = SimExecutionClient(provider=provider)
    latency_in, latency_out = provider.config.order_latency_ns, provider.config.report_latency_ns
    spacing = data.params["BTC-USD"].level_spacing_ticks
    cl = 0
    working: dict[Side, int] = {}  # side -> cl_ord_id
    sent: dict[int, int] = {}  # cl_ord_id -> submit time
    reports = []
    best: dict[Side, int] = {}
    now = T0
    for event in data.start(T0):
        exe.on_market(event)
    for step in range(1, 1201):
        now = T0 + step * S // 10
        for event in data.poll(now):
            exe.on_market(event)
            if isinstance(event, BookSnapshotEvent | BookDeltaEvent):
                book = data.feed.market(1).book
                best[Side.Buy], best[Side.Sell] = book.best_bid()[0], book.best_ask()[0]
        for r in exe.poll(now):
            reports.append(r)
            if r.ord_status in (OrdStatus.Filled, OrdStatus.Canceled, OrdStatus.Expired, OrdStatus.Rejected):
                working.pop(r.side, None)
        for side in (Side.Buy, Side.Sell):
            if side not in working and best:
                cl += 1
                price = best[side] - spacing if side == Side.Buy else best[side] + spacing
                exe.submit(
                    NewOrderRequest(
                        instrument_id=1, cl_ord_id=cl, side=side, qty=50, price=price, account_id=1
                    ),
                    now,
                )
                working[side] = cl
                sent[cl] = now
        if step % 300 == 0:  # refresh stale quotes now and then
            for c in list(working.values()):
                exe.cancel(
                    CancelRequest(instrument_id=1, cl_ord_id=10_000 + c, orig_cl_ord_id=c, account_id=1), now
                )
    fills = [r for r in reports if isinstance(r, OrderFilled)]
    assert {f.side for f in fills} == {Side.Buy, Side.Sell}
    maker = [f for f in fills if f.liquidity == Liquidity.MAKER]
    taker = [f for f in fills if f.liquidity == Liquidity.TAKER]
    assert all(f.last_px == f.price for f in maker)
    # A quote the market moved through during its order latency arrives marketable and takes, never
    # at a price worse than its limit.
    assert all((f.last_px <= f.price) if f.side == Side.Buy else (f.last_px >= f.price) for f in taker)
    assert len(maker) > 5 * len(taker)
    assert all(r.ts == r.transact_ts + latency_out for r in reports)
    assert all(r.transact_ts >= sent[r.cl_ord_id] + latency_in for r in reports if r.cl_ord_id in sent)
    per_order: dict[int, int] = defaultdict(int)
    for f in fills:
        per_order[f.venue_order_id] += f.last_qty
        assert f.cum_qty == per_order[f.venue_order_id] and f.cum_qty + f.leaves_qty == f.qty
    trades = data.stats["TradeEvent"]
    assert trades > 0 and len(fills) < trades  # quotes fill far less often than the market trades


def test_exec_config_from_a_table(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text('[exec]\naccount_id = 3\nbook = "reference"\n[bad]\nbook = "quick"\n[typo]\nacount_id = 1\n')
    root = load_toml(p)
    assert SimExecClientConfig.from_table(root.table("exec")) == SimExecClientConfig(
        account_id=3, book="reference"
    )
    with pytest.raises(ValueError, match="book"):
        SimExecClientConfig.from_table(root.table("bad"))
    with pytest.raises(ValueError, match="acount_id"):
        SimExecClientConfig.from_table(root.table("typo"))
    assert (
        SimDataClientConfig.from_table(load_toml(p).table("missing", default_empty=True))
        == SimDataClientConfig()
    )


def test_market_trades_reach_the_venue(provider):
    exe = SimExecutionClient(provider=provider)
    exe.on_market(BookSnapshotEvent(1, 1, T0, T0, ((5_999_900, 10),), ((6_000_000, 3),)))
    exe.submit(NewOrderRequest(instrument_id=1, cl_ord_id=1, side=Side.Sell, qty=2, price=6_000_100), T0)
    exe.on_market(TradeEvent(1, 1, T0 + S, T0 + S, 6_000_200, 5, 1))  # a buyer paid through our offer
    fills = [r for r in exe.poll(T0 + 2 * S) if isinstance(r, OrderFilled)]
    assert [(f.last_px, f.last_qty) for f in fills] == [(6_000_100, 2)]
