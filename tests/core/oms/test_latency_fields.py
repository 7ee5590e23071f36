"""The venue order carries the strategy's sendTs and triggerTs unchanged, so the exec gateway can
measure tick-to-order (market-data publish -> order at the venue); the oms's own orders carry its time
and no trigger. Replay reproduces them from the WAL like every other output."""

from __future__ import annotations

from core.codec.messages import NewOrder, OrdType, Side, TimeInForce
from tests.core.oms.harness import BTC, MS, OPERATOR, SIM, Desk, config
from tests.core.oms.simlink import SimLink
from tests.core.oms.test_wal import replayed

MID = 6_000_000


def new_order(cl: int, send_ts: int, trigger_ts: int, price: int = MID - 500) -> bytes:
    return NewOrder.encode_bytes(
        correlationId=cl,
        clientId=7,
        strategyId=1,
        clOrdId=cl,
        orderId=0,
        instrumentId=BTC,
        venueId=SIM,
        side=Side.Buy,
        ordType=OrdType.Limit,
        timeInForce=TimeInForce.GTC,
        flags=0,
        price=price,
        qty=1_000,
        sendTs=send_ts,
        triggerTs=trigger_ts,
        operator=OPERATOR,
    )


def desk() -> Desk:
    d = Desk(config({"price_band_bps": "500"}))
    d.book(BTC, MID - 50, MID + 50)
    return d


def test_a_strategy_order_reaches_the_venue_with_its_send_and_trigger_times() -> None:
    d = desk()
    send_ts, trigger_ts = d.now + 7, d.now + 3  # both differ from the oms's own time
    mark = len(d.out)
    d.send(new_order(1, send_ts, trigger_ts))
    (venue_order,) = [m for m in d.venue_orders(mark) if isinstance(m, NewOrder)]
    assert (venue_order.sendTs, venue_order.triggerTs) == (send_ts, trigger_ts)
    assert venue_order.orderId == d.last_order_id() and venue_order.clOrdId == 1
    assert d.now not in (send_ts, trigger_ts)


def test_an_order_without_a_trigger_keeps_triggerTs_zero() -> None:
    d = desk()
    mark = len(d.out)
    d.send(new_order(1, d.now, 0))
    (venue_order,) = [m for m in d.venue_orders(mark) if isinstance(m, NewOrder)]
    assert venue_order.triggerTs == 0


def test_the_omss_own_flatten_orders_carry_its_time_and_no_trigger() -> None:
    d = Desk(config({"flatten_band_bps": "50", "flatten_timeout_ms": 3000, "price_band_bps": "500"}))
    link = SimLink(d)
    link.market(BTC, [(MID - 50, 1_000_000)], [(MID + 50, 1_000_000)])
    d.send(new_order(1, d.now - 5 * MS, d.now - 6 * MS, price=MID + 50))  # takes: long 0.1 BTC
    link.run(5 * MS)
    mark = len(d.out)
    d.flatten()
    link.run(50 * MS)
    flatten_orders = [m for m in d.venue_orders(mark) if isinstance(m, NewOrder)]
    assert flatten_orders, "the flatten sent no order"
    oms_times = {ts for ts, _payload in d.inputs}  # the times the oms acted at
    for m in flatten_orders:
        assert m.triggerTs == 0 and m.sendTs in oms_times


def test_replay_reproduces_the_forwarded_times() -> None:
    d = desk()
    d.send(new_order(1, d.now + 11, d.now + 2))
    d.send(new_order(2, d.now + 12, 0))
    _engine, out = replayed(d)
    assert [o.payload for o in out.outputs] == [o.payload for o in d.out.outputs]
    forwarded = [m for m in out.messages("venue_order") if isinstance(m, NewOrder)]
    assert [m.triggerTs > 0 for m in forwarded] == [True, False]
