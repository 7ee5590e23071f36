"""Dead-man, SetLimit (audited), CancelAll."""

from __future__ import annotations

from decimal import Decimal

from core.codec.messages import AckStatus, CancelOrder, ExecType, Reason, RiskEventType, Side
from core.oms.money import from_decimal64
from tests.core.oms.harness import BTC, ETH, MS, Desk, config

MID = 6_000_000


def desk(**kw) -> Desk:
    d = Desk(config(**kw))
    d.book(BTC, MID - 50, MID + 50)
    d.book(ETH, 299_950, 300_050)
    return d


def cancelled_ids(d: Desk, mark: int) -> list[int]:
    return [m.orderId for m in d.venue_orders(mark) if isinstance(m, CancelOrder)]


# -- dead-man ------------------------------------------------------------------------------------------
def test_lost_heartbeat_cancels_the_strategys_orders_and_refuses_new_ones_until_it_beats():
    d = desk(strategies={1: {"deadman_ms": 1000}})
    d.heartbeat(1)
    d.order(1, 1, BTC, Side.Buy, 100, MID - 100)
    d.order(1, 2, ETH, Side.Sell, 100, 300_100)
    d.order(2, 1, BTC, Side.Buy, 100, MID - 100)  # strategy 2 has no dead-man
    for oid in (1, 2, 3):
        d.ack(oid)
    d.heartbeat(1, dt=900 * MS)
    mark = len(d.out)
    d.tick(900 * MS)  # 900 ms since the last beat: alive
    assert cancelled_ids(d, mark) == []
    d.tick(100 * MS)  # 1000 ms: dead
    assert sorted(cancelled_ids(d, mark)) == [1, 2]
    [ev] = [e for e in d.risk_events(mark) if e.eventType == RiskEventType.DeadManTriggered]
    assert ev.reason == Reason.DeadMan and ev.strategyId == 1 and from_decimal64(*ev.limit) == 1000
    assert ev.ts == d.now  # fired at its deadline
    mark = d.order(1, 3, BTC, Side.Buy, 100, MID - 100)
    assert [(r.execType, r.reason) for r in d.reports(mark)] == [(ExecType.Rejected, Reason.DeadMan)]
    d.heartbeat(1)
    mark = d.order(1, 4, BTC, Side.Buy, 100, MID - 100)
    assert [r.execType for r in d.reports(mark)] == [ExecType.PendingNew]


def test_an_order_acked_after_the_dead_man_fired_is_cancelled():
    d = desk(strategies={1: {"deadman_ms": 500}})
    d.heartbeat(1)
    d.order(1, 1, BTC, Side.Buy, 100, MID - 100)
    d.tick(600 * MS)  # the order is still PendingNew: its cancel goes now ...
    d.report(
        1, ExecType.CancelRejected, 0, reason=Reason.UnknownOrder
    )  # ... but the venue had not seen it yet
    mark = len(d.out)
    d.ack(1)
    assert cancelled_ids(d, mark) == [1]


def test_a_strategy_that_never_beat_is_armed_by_its_first_order():
    d = desk(strategies={1: {"deadman_ms": 500}})
    d.order(1, 1, BTC, Side.Buy, 100, MID - 100)
    d.ack(1)
    mark = len(d.out)
    d.tick(600 * MS)
    assert cancelled_ids(d, mark) == [1]


def test_an_oms_restart_gives_each_armed_strategy_one_interval_to_be_heard():
    """The oms could not hear anyone while it was down: the heartbeats it replays are stale, so they
    must not fire the dead-man at its start. A strategy heard within one interval keeps its orders; a
    silent one is cancelled an interval after the start; one found dead before the stop stays dead."""
    d = desk(strategies={s: {"deadman_ms": 1000} for s in (1, 2, 3)})
    for s in (1, 2, 3):
        d.heartbeat(s)
    d.order(1, 1, BTC, Side.Buy, 100, MID - 100)
    d.order(2, 1, BTC, Side.Buy, 100, MID - 100)
    for oid in (1, 2):
        d.ack(oid)
    d.heartbeat(1, dt=900 * MS)
    d.heartbeat(2, dt=0)
    d.tick(100 * MS)  # strategy 3 is silent: found dead before the stop
    assert [e.strategyId for e in d.risk_events() if e.eventType == RiskEventType.DeadManTriggered] == [3]
    mark = len(d.out)
    d.restart(10_000 * MS)  # down 10 s, ten intervals
    assert cancelled_ids(d, mark) == [] and d.risk_events(mark) == []
    d.heartbeat(1, dt=600 * MS)  # strategy 1 is running and heard again; 2 stays silent
    d.tick(399 * MS)
    assert cancelled_ids(d, mark) == []  # 999 ms after the start
    d.tick(1 * MS)
    assert cancelled_ids(d, mark) == [2]
    [ev] = d.risk_events(mark)
    assert ev.eventType == RiskEventType.DeadManTriggered and ev.strategyId == 2 and ev.ts == d.now
    mark = d.order(3, 1, BTC, Side.Buy, 100, MID - 100)  # still dead: refused until it beats
    assert [(r.execType, r.reason) for r in d.reports(mark)] == [(ExecType.Rejected, Reason.DeadMan)]
    mark = d.order(1, 2, BTC, Side.Buy, 100, MID - 100)
    assert [r.execType for r in d.reports(mark)] == [ExecType.PendingNew]


def test_only_the_oms_own_start_gives_the_grace():
    """A strategy's heartbeat that happens to carry the start role is that strategy's heartbeat, no more."""
    from core.codec.messages import Heartbeat
    from core.oms.engine import START_ROLE

    d = desk(strategies={s: {"deadman_ms": 1000} for s in (1, 2)})
    d.heartbeat(1)
    d.heartbeat(2)
    d.order(2, 1, BTC, Side.Buy, 100, MID - 100)
    d.ack(1)
    mark = len(d.out)
    beat = {"pid": 1, "state": 2, "seq": 0, "startedTs": 0, "counters": (), "instance": b""}
    d.send(Heartbeat.encode_bytes(ts=d.now, role=START_ROLE, strategyId=1, **beat), 900 * MS)
    d.tick(110 * MS)  # strategy 2 has been silent past its interval: no grace came for it
    assert cancelled_ids(d, mark) == [1]
    assert [e.strategyId for e in d.risk_events(mark) if e.eventType == RiskEventType.DeadManTriggered] == [2]


# -- SetLimit ------------------------------------------------------------------------------------------
def test_set_limit_is_audited_with_operator_old_and_new_values():
    d = desk(instruments={BTC: {"max_order_qty": "2"}})
    mark = len(d.out)
    corr = d.set_limit("max_order_qty", "0.5", inst=BTC)
    [ev] = d.risk_events(mark)
    assert ev.eventType == RiskEventType.LimitChanged and ev.reason == Reason.Operator
    assert from_decimal64(*ev.value) == Decimal("0.5") and from_decimal64(*ev.limit) == 2
    assert (ev.instrumentId, ev.strategyId, ev.correlationId) == (BTC, 0, corr)
    assert (ev.operator.user, ev.operator.host, ev.operator.pid, ev.operator.tool) == (
        "trader",
        "desk-1",
        4242,
        "tui",
    )
    assert "2 -> 0.5" in ev.text and "risk desk request" in ev.text
    [ack] = d.acks(mark)
    assert ack.status == AckStatus.Done and ack.correlationId == corr
    mark = d.order(1, 1, BTC, Side.Buy, 5_001, MID)
    assert [(r.execType, r.reason) for r in d.reports(mark)] == [(ExecType.Rejected, Reason.MaxOrderQty)]


def test_bad_set_limit_is_refused_and_changes_nothing():
    d = desk()
    before = d.engine.limits.items()
    for name, value, kw in (
        ("max_qyt", "1", {}),
        ("max_order_qty", "-1", {}),
        ("max_gross_exposure", "5", {"strategy": 3}),
        ("max_order_qty", "1", {"inst": 999}),
    ):
        mark = len(d.out)
        d.set_limit(name, value, **kw)
        [ack] = d.acks(mark)
        assert ack.status == AckStatus.Refused, (name, ack)
        assert d.risk_events(mark) == []
    assert d.engine.limits.items() == before


# -- CancelAll -----------------------------------------------------------------------------------------
def test_cancel_all_by_instrument_and_strategy_then_done_when_they_are_gone():
    d = desk()
    d.order(1, 1, BTC, Side.Buy, 100, MID - 100)  # 1
    d.order(1, 2, ETH, Side.Buy, 100, 299_000)  # 2
    d.order(2, 1, BTC, Side.Buy, 100, MID - 100)  # 3
    for oid in (1, 2, 3):
        d.ack(oid)
    mark = len(d.out)
    corr = d.cancel_all(inst=BTC, strategy=1)
    assert cancelled_ids(d, mark) == [1]
    d.canceled(1)
    assert [(a.correlationId, a.status) for a in d.acks(mark)] == [
        (corr, AckStatus.InProgress),
        (corr, AckStatus.Done),
    ]
    mark = len(d.out)
    d.cancel_all()
    assert sorted(cancelled_ids(d, mark)) == [2, 3]
    assert not d.engine.kill.engaged  # cancel-all is not a kill: new orders are still accepted
    mark = d.order(1, 3, BTC, Side.Buy, 100, MID - 100)
    assert d.reports(mark)[0].execType == ExecType.PendingNew


def test_lowering_the_daily_loss_limit_below_todays_loss_engages_the_kill_switch():
    d = desk()
    d.order(1, 1, BTC, Side.Buy, 10_000, MID)
    d.ack(1)
    d.fill(1, 10_000, MID)
    d.book(BTC, MID - 30_050, MID - 29_950)  # -300 today
    assert not d.engine.kill.engaged
    mark = len(d.out)
    d.set_limit("daily_loss", "250")
    kinds = [(e.eventType, e.reason) for e in d.risk_events(mark)]
    assert kinds[0] == (RiskEventType.LimitChanged, Reason.Operator)
    assert (RiskEventType.KillEngaged, Reason.DailyLoss) in kinds
    assert d.engine.kill.engaged
