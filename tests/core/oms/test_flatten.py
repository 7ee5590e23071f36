"""Flatten against the simulated venue: cancel working orders, then reducing IOCs within a band of the mid
until flat (Done) or the timeout (Failed), with progress reported on the way."""

from __future__ import annotations

from decimal import Decimal

from core.codec.messages import AckStatus, NewOrder, OrdType, Reason, RiskEventType, Side, TimeInForce
from core.oms.money import from_decimal64
from tests.core.oms.harness import BTC, ETH, MS, SEC, Desk, config
from tests.core.oms.simlink import SimLink

MID = 6_000_000
DEEP = [(MID - 50, 1_000_000)]  # 100 BTC at the best levels
DEEP_ASK = [(MID + 50, 1_000_000)]


def setup(**limits) -> tuple[Desk, SimLink]:
    d = Desk(
        config({"flatten_band_bps": "50", "flatten_timeout_ms": 3000, "flatten_retry_ms": 200, **limits})
    )
    link = SimLink(d)
    link.market(BTC, DEEP, DEEP_ASK)
    link.market(ETH, [(299_950, 1_000_000)], [(300_050, 1_000_000)])
    return d, link


def take(d: Desk, link: SimLink, strategy: int, cl: int, inst: int, side: Side, qty: int, price: int) -> None:
    d.order(strategy, cl, inst, side, qty, price, tif=TimeInForce.IOC)
    link.run(5 * MS)


def account_net(d: Desk, inst: int) -> int:
    p = d.engine.ledger.positions.get(("a", 1, inst))
    return 0 if p is None else p.net


def events(d: Desk, mark: int) -> list[RiskEventType]:
    return [e.eventType for e in d.risk_events(mark) if e.eventType != RiskEventType.CheckFired]


def test_flatten_all_cancels_working_orders_and_trades_to_zero():
    d, link = setup()
    take(d, link, 1, 1, BTC, Side.Buy, 25_000, MID + 50)  # strategy 1 long 2.5 BTC
    take(d, link, 2, 1, ETH, Side.Sell, 7_000, 299_950)  # strategy 2 short 7 ETH
    d.order(1, 2, BTC, Side.Buy, 1_000, MID - 5_000)  # resting orders the flatten must cancel first
    d.order(2, 2, ETH, Side.Sell, 1_000, 305_000)
    link.run(5 * MS)
    assert (account_net(d, BTC), account_net(d, ETH), d.engine.working_count) == (25_000, -7_000, 2)
    mark = len(d.out)
    corr = d.flatten(client=9)
    link.run(1 * SEC)
    assert (account_net(d, BTC), account_net(d, ETH), d.engine.working_count) == (0, 0, 0)
    assert [(a.correlationId, a.status) for a in d.acks(mark)] == [
        (corr, AckStatus.InProgress),
        (corr, AckStatus.Done),
    ]
    evs = events(d, mark)
    assert evs[0] == RiskEventType.FlattenStarted and evs[-1] == RiskEventType.FlattenDone
    assert evs.count(RiskEventType.FlattenProgress) >= 2
    flatten_orders = [m for m in d.venue_orders(mark) if isinstance(m, NewOrder)]
    assert len(flatten_orders) == 2
    for m in flatten_orders:
        assert m.timeInForce == TimeInForce.IOC and m.ordType == OrdType.Limit
        assert m.flags & 8 and m.flags & 2  # flatten, reduce-only
        assert m.strategyId == 0  # the account's positions are flattened on the manual book
    sell_btc = next(m for m in flatten_orders if m.instrumentId == BTC)
    assert sell_btc.side == Side.Sell and sell_btc.qty == 25_000
    assert sell_btc.price == 5_970_000  # 60000 x (1 - 0.5 %) on the tick
    buy_eth = next(m for m in flatten_orders if m.instrumentId == ETH)
    assert buy_eth.side == Side.Buy and buy_eth.price == 301_500


def test_flatten_one_instrument_leaves_the_others_alone():
    d, link = setup()
    take(d, link, 1, 1, BTC, Side.Buy, 10_000, MID + 50)
    take(d, link, 1, 2, ETH, Side.Buy, 5_000, 300_050)
    d.order(1, 3, ETH, Side.Buy, 1_000, 290_000)
    link.run(5 * MS)
    d.flatten(inst=BTC)
    link.run(1 * SEC)
    assert (account_net(d, BTC), account_net(d, ETH)) == (0, 5_000)
    assert d.engine.working_count == 1  # the ETH order still works


def test_flatten_works_through_thin_liquidity_in_several_orders():
    d, link = setup()
    take(d, link, 1, 1, BTC, Side.Buy, 10_000, MID + 50)
    link.market(BTC, [(MID - 50, 4_000), (MID - 100_000, 1_000_000)], DEEP_ASK)  # 0.4 BTC within the band
    mark = len(d.out)
    d.flatten(inst=BTC)
    link.run(100 * MS)
    assert account_net(d, BTC) == 6_000
    progress = [e for e in d.risk_events(mark) if e.eventType == RiskEventType.FlattenProgress]
    assert from_decimal64(*progress[0].value) == Decimal("0.6")  # BTC left
    link.market(BTC, [(MID - 50, 4_000), (MID - 100, 4_000)], DEEP_ASK)  # the book refills
    link.run(1 * SEC)
    assert account_net(d, BTC) == 0
    assert events(d, mark)[-1] == RiskEventType.FlattenDone


def test_flatten_fails_at_the_timeout_when_nothing_trades_within_the_band():
    d, link = setup()
    take(d, link, 1, 1, BTC, Side.Buy, 10_000, MID + 50)
    link.market(BTC, [(MID - 100_000, 1_000_000)], DEEP_ASK)  # bids far outside the 0.5 % band
    mark = len(d.out)
    corr = d.flatten()
    link.run(2 * SEC)
    assert [a.status for a in d.acks(mark)] == [AckStatus.InProgress]
    link.run(2 * SEC)
    acks = d.acks(mark)
    assert (acks[-1].correlationId, acks[-1].status, acks[-1].reason) == (
        corr,
        AckStatus.Refused,
        Reason.Timeout,
    )
    failed = [e for e in d.risk_events(mark) if e.eventType == RiskEventType.FlattenFailed]
    assert len(failed) == 1 and failed[0].reason == Reason.Timeout and "BTC-USD 1.0000" in failed[0].text
    assert account_net(d, BTC) == 10_000
    assert d.engine.flatten_jobs == {}


def test_flatten_while_killed_and_in_chunks_of_max_order_qty():
    d, link = setup()
    d.engine.limits.set("max_order_qty", 0, BTC, Decimal("1"))
    take(d, link, 1, 1, BTC, Side.Buy, 10_000, MID + 50)
    take(d, link, 1, 2, BTC, Side.Buy, 10_000, MID + 50)
    take(d, link, 1, 3, BTC, Side.Buy, 5_000, MID + 50)  # 2.5 BTC
    d.kill()
    mark = len(d.out)
    d.flatten()
    link.run(2 * SEC)
    assert account_net(d, BTC) == 0
    sizes = [m.qty for m in d.venue_orders(mark) if isinstance(m, NewOrder)]
    assert sizes == [10_000, 10_000, 5_000]
    assert d.engine.kill.engaged


def test_flatten_of_one_strategy_books_to_that_strategy():
    d, link = setup()
    take(d, link, 1, 1, BTC, Side.Buy, 10_000, MID + 50)
    take(d, link, 2, 1, BTC, Side.Buy, 20_000, MID + 50)
    d.flatten(strategy=1)
    link.run(1 * SEC)
    pos = d.engine.ledger.positions
    assert pos[("s", 1, BTC)].net == 0 and pos[("s", 2, BTC)].net == 20_000
    assert account_net(d, BTC) == 20_000


def test_flatten_with_nothing_to_do_is_done_at_once():
    d, _link = setup()
    mark = len(d.out)
    d.flatten()
    assert [a.status for a in d.acks(mark)] == [AckStatus.InProgress, AckStatus.Done]
