"""The one SBE <-> sim translation (core/sim/wire.py): order requests in, ExecutionReports out, driven
through a real SimVenue; the exec daemon's client and the backtest's venue link both go through it."""

from __future__ import annotations

from decimal import Decimal

from adapters.sim import SimExecClientConfig, SimExecutionClient, SimInstrumentProvider
from core.backtest.venue_link import SimVenueLink
from core.codec.messages import (
    CancelOrder,
    DaemonState,
    ExecType,
    ExecutionReport,
    Heartbeat,
    NewOrder,
    OperatorIdentity,
    OrderFlags,
    OrdStatus,
    OrdType,
    ReplaceOrder,
    Side,
    TimeInForce,
    decode,
)
from core.marketdata.events import BookSnapshotEvent
from core.sim import CancelRequest, NewOrderRequest, ReplaceRequest, SimVenue, SimVenueConfig
from core.sim.wire import decode_venue_request, execution_report_bytes, venue_request

from .conftest import INST

OP = OperatorIdentity(user=b"test", host=b"test", pid=1, tool=b"test")
T0 = 1_000_000_000
ACCOUNT = 5


def new_order(
    cl: int, side: Side, qty: int, price: int | None, *, flags: int = 0, order_id: int = 0
) -> bytes:
    return NewOrder.encode_bytes(
        correlationId=900 + cl,
        clientId=77,
        strategyId=3,
        clOrdId=cl,
        orderId=order_id or cl * 10,
        instrumentId=INST.id,
        venueId=1,
        side=side,
        ordType=OrdType.Limit if price is not None else OrdType.Market,
        timeInForce=TimeInForce.GTC,
        flags=flags,
        price=price,
        qty=qty,
        sendTs=T0,
        triggerTs=0,
        operator=OP,
    )


def cancel_order(
    cl: int, orig: int, order_id: int, *, instrument_id: int = INST.id, strategy: int = 3
) -> bytes:
    return CancelOrder.encode_bytes(
        correlationId=900 + cl,
        clientId=77,
        strategyId=strategy,
        clOrdId=cl,
        origClOrdId=orig,
        orderId=order_id,
        instrumentId=instrument_id,
        venueId=1,
        sendTs=T0,
        operator=OP,
    )


def replace_order(cl: int, orig: int, order_id: int, price: int | None, qty: int) -> bytes:
    return ReplaceOrder.encode_bytes(
        correlationId=900 + cl,
        clientId=77,
        strategyId=3,
        clOrdId=cl,
        origClOrdId=orig,
        orderId=order_id,
        instrumentId=INST.id,
        venueId=1,
        price=price,
        qty=qty,
        sendTs=T0,
        operator=OP,
    )


def venue() -> SimVenue:
    v = SimVenue([INST], SimVenueConfig(maker_fee_bps=Decimal("1"), taker_fee_bps=Decimal("5")))
    v.on_market(BookSnapshotEvent(INST.id, 1, T0, T0, ((10_000, 50),), ((10_100, 50),)))
    return v


def test_each_request_becomes_its_venue_request_with_every_id_carried() -> None:
    new = decode_venue_request(new_order(11, Side.Sell, 7, 10_200, flags=OrderFlags.postOnly), ACCOUNT)
    assert new == NewOrderRequest(
        instrument_id=INST.id,
        cl_ord_id=11,
        side=Side.Sell,
        qty=7,
        price=10_200,
        ord_type=OrdType.Limit,
        tif=TimeInForce.GTC,
        post_only=True,
        account_id=ACCOUNT,
        strategy_id=3,
        client_id=77,
        order_id=110,
        correlation_id=911,
    )
    plain = decode_venue_request(new_order(12, Side.Buy, 1, None), ACCOUNT)
    assert isinstance(plain, NewOrderRequest) and not plain.post_only and plain.price is None
    assert decode_venue_request(cancel_order(13, 11, 110), ACCOUNT) == CancelRequest(
        instrument_id=INST.id,
        cl_ord_id=13,
        orig_cl_ord_id=11,
        account_id=ACCOUNT,
        strategy_id=3,
        client_id=77,
        order_id=110,
        correlation_id=913,
    )
    assert decode_venue_request(replace_order(14, 11, 110, None, 9), ACCOUNT) == ReplaceRequest(
        instrument_id=INST.id,
        cl_ord_id=14,
        orig_cl_ord_id=11,
        qty=9,
        price=None,
        account_id=ACCOUNT,
        strategy_id=3,
        client_id=77,
        order_id=110,
        correlation_id=914,
    )


def test_a_message_that_is_not_an_order_request_translates_to_nothing() -> None:
    hb = Heartbeat.encode_bytes(
        ts=T0,
        role=b"x",
        pid=1,
        state=DaemonState.Running,
        seq=1,
        startedTs=T0,
        strategyId=0,
        counters=[],
        instance=b"i",
    )
    assert decode_venue_request(hb, ACCOUNT) is None
    assert venue_request(object(), ACCOUNT) is None


def test_reports_carry_the_order_after_the_event_and_fills_their_price_and_fee() -> None:
    v = venue()
    v.submit(decode_venue_request(new_order(1, Side.Buy, 10, 9_900), ACCOUNT), T0)
    v.replace(decode_venue_request(replace_order(2, 1, 10, 10_000, 15), ACCOUNT), T0 + 1)
    v.submit(decode_venue_request(new_order(3, Side.Buy, 4, 10_100), ACCOUNT), T0 + 2)  # takes the ask
    reports = [decode(execution_report_bytes(r, 1, n)) for n, r in enumerate(v.poll_reports(T0 + 10), 1)]
    kinds = [(r.execType, r.clOrdId) for r in reports]
    assert kinds == [
        (ExecType.New, 1),
        (ExecType.Replaced, 2),
        (ExecType.New, 3),
        (ExecType.Trade, 3),
    ]
    ack, replaced, _, fill = reports
    assert (ack.price, ack.qty, ack.leavesQty, ack.orderId, ack.clientId) == (9_900, 10, 10, 10, 77)
    # the Replaced report states the new terms, not the old ones
    assert (replaced.price, replaced.qty, replaced.leavesQty, replaced.origClOrdId) == (10_000, 15, 15, 1)
    assert replaced.ordStatus == OrdStatus.New and replaced.correlationId == 902
    assert (fill.lastPx, fill.lastQty, fill.cumQty, fill.ordStatus) == (10_100, 4, 4, OrdStatus.Filled)
    # avgPx in price units (the instrument's exponent is -2), not as a mantissa
    assert Decimal(fill.avgPx.mantissa).scaleb(fill.avgPx.exponent) == Decimal("101.00")
    # taker fee: 5 bp of 4 x 101.00 USD = 0.202 USD
    assert Decimal(fill.fee.mantissa).scaleb(fill.fee.exponent) == Decimal("0.202")
    assert ack.lastPx is None and ack.lastQty == 0 and ack.avgPx.mantissa == 0 and ack.fee.mantissa == 0
    assert [r.seq for r in reports] == [1, 2, 3, 4] and {r.venueId for r in reports} == {1}


def test_the_exec_client_and_the_backtest_link_send_the_same_bytes() -> None:
    """Both gateways front a SimVenue with the same translation: same requests, same reports."""
    provider = SimInstrumentProvider()
    btc = provider.instruments()[0]
    client = SimExecutionClient(SimExecClientConfig(account_id=ACCOUNT), provider)
    link = SimVenueLink(SimVenue(provider.instruments(), provider.config), provider.venue_id, ACCOUNT)
    book = BookSnapshotEvent(btc.id, 1, T0, T0, ((6_000_000, 100),), ((6_000_100, 100),))
    client.on_market(book)
    link.venue.on_market(book)

    def order(cl: int, price: int) -> bytes:
        return NewOrder.encode_bytes(
            correlationId=cl,
            clientId=77,
            strategyId=1,
            clOrdId=cl,
            orderId=cl,
            instrumentId=btc.id,
            venueId=provider.venue_id,
            side=Side.Buy,
            ordType=OrdType.Limit,
            timeInForce=TimeInForce.GTC,
            flags=0,
            price=price,
            qty=btc.lot_size * 3,
            sendTs=T0,
            triggerTs=0,
            operator=OP,
        )

    requests = [
        order(1, 5_999_000),
        order(2, 6_000_100),
        cancel_order(3, 1, 1, instrument_id=btc.id, strategy=1),
    ]
    buf = bytearray(1024)
    from_client = []
    for payload in requests:
        m = decode(payload)
        handler = {
            NewOrder: client.on_new_order,
            CancelOrder: client.on_cancel_order,
        }[type(m)]
        handler(m, T0)
        link.send(payload, T0)
    for r in client.poll(T0 + 10**9):
        n = client.encode_report(r, buf)
        from_client.append(bytes(buf[:n]))
    from_link = link.reports(T0 + 10**9)
    assert len(from_client) == 4 and from_client == from_link
    assert [decode(p).execType for p in from_link] == [
        ExecType.New,
        ExecType.New,
        ExecType.Trade,
        ExecType.Canceled,
    ]
    assert isinstance(decode(from_link[0]), ExecutionReport)
