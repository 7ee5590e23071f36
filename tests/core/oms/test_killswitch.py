"""Kill switch: latched, refuses new exposure, lets reducing IOC orders through, cancels every working
order (also those acked after the kill) and reports Done only when none is left."""

from __future__ import annotations

from core.codec.messages import (
    AckStatus,
    CancelOrder,
    ExecType,
    KillAction,
    KillSwitchState,
    OrdStatus,
    Reason,
    RiskEventType,
    Side,
    TimeInForce,
)
from tests.core.oms.harness import BINANCE, BTC, BTCUSDT, ETH, MS, SEC, Desk, config
from tests.core.oms.simlink import SimLink

MID = 6_000_000


def desk(**limits) -> Desk:
    d = Desk(config({"cancel_retry_ms": 500, **limits}))
    d.book(BTC, MID - 50, MID + 50)
    d.book(ETH, 299_950, 300_050)
    d.book(BTCUSDT, MID - 50, MID + 50)
    return d


def kill_states(d: Desk, mark: int) -> list[tuple[int, int]]:
    return [(m.engaged, m.workingOrders) for m in d.since(mark, "kill_switch_state")]


def cancels(d: Desk, mark: int) -> list[tuple[int, int]]:
    return [
        (o.target, o.message().orderId)
        for o in d.out.outputs[mark:]
        if o.kind == "venue_order" and isinstance(o.message(), CancelOrder)
    ]


def test_engage_cancels_every_working_order_at_every_venue_and_is_done_at_zero():
    d = desk()
    d.order(1, 1, BTC, Side.Buy, 100, MID - 100, venue=1)
    d.order(2, 1, BTCUSDT, Side.Sell, 100, MID + 100, venue=BINANCE)
    d.order(1, 2, BTC, Side.Buy, 100, MID - 200, venue=1)  # never acked
    d.ack(1)
    d.ack(2, venue=2)
    mark = len(d.out)
    corr = d.kill(reason="desk check", client=9)
    assert sorted(cancels(d, mark)) == [(1, 1), (1, 3), (2, 2)]
    [engaged] = [e for e in d.risk_events(mark) if e.eventType == RiskEventType.KillEngaged]
    assert engaged.reason == Reason.Operator and engaged.text == "desk check"
    assert (engaged.operator.user, engaged.operator.host, engaged.operator.pid, engaged.operator.tool) == (
        "trader",
        "desk-1",
        4242,
        "tui",
    )
    assert [(a.correlationId, a.clientId, a.status) for a in d.acks(mark)] == [
        (corr, 9, AckStatus.InProgress)
    ]
    assert kill_states(d, mark) == [(1, 3)]
    d.canceled(1)
    d.canceled(2, venue=2)
    assert [a.status for a in d.acks(mark)] == [AckStatus.InProgress]  # one order still working
    assert not [e for e in d.risk_events(mark) if e.eventType == RiskEventType.AllOrdersCanceled]
    done_mark = len(d.out)
    d.canceled(3)
    assert [(a.correlationId, a.status) for a in d.acks(done_mark)] == [(corr, AckStatus.Done)]
    assert [e.eventType for e in d.risk_events(done_mark)] == [RiskEventType.AllOrdersCanceled]
    assert kill_states(d, done_mark) == [(1, 0)]


def test_latched_until_an_explicit_release_with_who_and_why():
    d = desk()
    d.kill(reason="fat finger")
    d.tick(60 * SEC)
    d.kill(reason="again")  # engaging twice keeps the first engagement
    assert d.engine.kill.engaged and d.engine.kill.reason == "fat finger" and d.engine.kill.engagements == 1
    mark = len(d.out)
    d.kill(KillAction.Release, reason="all clear")
    [released] = [e for e in d.risk_events(mark)]
    assert released.eventType == RiskEventType.KillReleased and released.text == "all clear"
    assert released.operator.user == "trader"
    assert kill_states(d, mark) == [(0, 0)]
    assert [a.status for a in d.acks(mark)] == [AckStatus.Done]
    d.order(1, 1, BTC, Side.Buy, 100, MID)
    assert d.reports()[-1].execType == ExecType.PendingNew


def test_only_reducing_ioc_orders_pass_while_engaged():
    d = desk()
    d.order(1, 1, BTC, Side.Buy, 1_000, MID)
    d.ack(1)
    d.fill(1, 1_000, MID)  # long 0.1 BTC
    d.kill()
    for cl, side, qty, tif in (
        (2, Side.Buy, 100, TimeInForce.IOC),  # adds to the long
        (3, Side.Sell, 100, TimeInForce.GTC),  # reduces, but would rest
        (4, Side.Sell, 1_100, TimeInForce.IOC),
    ):  # more than the position
        mark = d.order(1, cl, BTC, side, qty, MID, tif=tif)
        assert [(r.execType, r.reason) for r in d.reports(mark)] == [(ExecType.Rejected, Reason.KillSwitch)]
    mark = d.order(1, 5, BTC, Side.Sell, 1_000, MID, tif=TimeInForce.IOC)
    assert [r.execType for r in d.reports(mark)] == [ExecType.PendingNew]


def test_an_order_acked_after_the_kill_is_cancelled_at_once():
    d = desk()
    d.order(1, 1, BTC, Side.Buy, 100, MID - 100)
    d.kill()  # the order is PendingNew: its cancel goes out now
    d.report(
        1, ExecType.CancelRejected, OrdStatus.PendingNew, reason=Reason.UnknownOrder
    )  # venue had not seen it
    assert d.engine.orders[1].status == OrdStatus.PendingNew
    mark = len(d.out)
    d.ack(1)  # now it rests at the venue: cancel it at once
    assert cancels(d, mark) == [(1, 1)]
    assert d.engine.orders[1].status == OrdStatus.PendingCancel
    d.canceled(1)
    assert d.engine.working_count == 0
    assert [a.status for a in d.acks()][-1] == AckStatus.Done


def test_a_reducing_ioc_sent_while_killed_is_cancelled_when_acked():
    d = desk()
    d.order(1, 1, BTC, Side.Buy, 1_000, MID)
    d.ack(1)
    d.fill(1, 1_000, MID)
    d.kill()
    d.order(1, 2, BTC, Side.Sell, 1_000, MID, tif=TimeInForce.IOC)
    mark = len(d.out)
    d.ack(2)
    assert cancels(d, mark) == [(1, 2)]


def test_unanswered_cancels_are_sent_again_until_the_order_is_gone():
    d = desk()
    d.order(1, 1, BTC, Side.Buy, 100, MID - 100)
    d.ack(1)
    d.kill()
    mark = len(d.out)
    d.tick(499 * MS)
    assert cancels(d, mark) == []
    d.tick(2 * MS)
    assert cancels(d, mark) == [(1, 1)] and d.engine.counters["cancel_resends"] == 1
    d.canceled(1)
    mark = len(d.out)
    d.tick(5 * SEC)
    assert cancels(d, mark) == []


def test_engage_with_nothing_working_is_done_at_once():
    d = desk()
    mark = len(d.out)
    d.kill()
    assert [a.status for a in d.acks(mark)] == [AckStatus.Done]
    assert RiskEventType.AllOrdersCanceled in [e.eventType for e in d.risk_events(mark)]


def test_release_before_done_refuses_the_pending_acknowledgement():
    d = desk()
    d.order(1, 1, BTC, Side.Buy, 100, MID - 100)
    corr = d.kill()
    mark = len(d.out)
    d.kill(KillAction.Release, reason="mistake")
    statuses = [(a.correlationId, a.status) for a in d.acks(mark)]
    assert (corr, AckStatus.Refused) in statuses


def test_kill_against_the_sim_venue_leaves_nothing_working():
    d = desk()
    link = SimLink(d)
    link.market(BTC, [(MID - 50, 100_000)], [(MID + 50, 100_000)])
    for i in range(40):
        d.order(
            1 + i % 3,
            i + 1,
            BTC,
            Side.Buy if i % 2 else Side.Sell,
            100,
            MID - 1_000 - i * 10 if i % 2 else MID + 1_000 + i * 10,
        )
    link.run(5 * MS)
    assert len(link.venue.engine(BTC).live_orders()) == 40
    d.kill()
    link.run(50 * MS)
    assert d.engine.working_count == 0
    assert link.venue.engine(BTC).live_orders() == []
    assert [a.status for a in d.acks()][-1] == AckStatus.Done
    last_state = d.since(0, "kill_switch_state")[-1]
    assert isinstance(last_state, KillSwitchState) and last_state.workingOrders == 0 and last_state.engaged


def test_a_release_without_a_reason_is_refused():
    d = desk()
    d.kill()
    mark = len(d.out)
    d.kill(KillAction.Release, reason=" ")
    [ack] = d.acks(mark)
    assert ack.status == AckStatus.Refused and "reason" in ack.text
    assert d.engine.kill.engaged and d.risk_events(mark) == []
