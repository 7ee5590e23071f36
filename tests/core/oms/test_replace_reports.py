"""Replace races and the Replaced report: a refused replace that a completing fill overtook is a late
report (no invalid transition, no risk event), and the Replaced report states the new terms."""

from __future__ import annotations

from core.codec.messages import ExecType, OrdStatus, Reason, RiskEventType, Side
from tests.core.oms.harness import BTC, Desk, check_invariants, config, state_of
from tests.core.oms.test_wal import replayed

BID, ASK, MID = 5_999_950, 6_000_050, 6_000_000


def desk() -> Desk:
    d = Desk(config())
    d.book(BTC, BID, ASK)
    return d


def test_the_replaced_report_carries_the_new_price_quantity_and_leaves() -> None:
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID - 500)
    d.ack(1)
    d.fill(1, 200, MID - 500)
    d.replace(1, 12, 11, MID - 300, 1_500)
    mark = len(d.out)
    d.report(1, ExecType.Replaced, OrdStatus.Replaced)
    [replaced] = d.reports(mark)
    assert replaced.execType == ExecType.Replaced and replaced.ordStatus == OrdStatus.Replaced
    assert (replaced.clOrdId, replaced.origClOrdId) == (12, 11)
    assert (replaced.price, replaced.qty, replaced.cumQty, replaced.leavesQty) == (
        MID - 300,
        1_500,
        200,
        1_300,
    )
    # the report answers the replace request: its correlation id, not the original order's
    assert replaced.correlationId == d._corr and replaced.correlationId != d.reports(0)[0].correlationId
    check_invariants(d.engine)


def test_a_replace_refused_after_the_fill_that_completed_the_order_is_a_late_report() -> None:
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID - 500)
    d.ack(1)
    d.replace(1, 12, 11, MID - 300, 1_500)
    assert d.engine.orders[1].status == OrdStatus.PendingReplace
    d.fill(1, 1_000, MID - 500)  # the whole order fills at the venue before the replace gets there
    assert d.engine.orders[1].status == OrdStatus.Filled
    mark = len(d.out)
    late = d.engine.counters.get("late_reports", 0)
    d.report(1, ExecType.ReplaceRejected, OrdStatus.Filled, reason=Reason.TooLateToCancel)
    assert d.engine.counters["late_reports"] == late + 1
    assert not d.engine.counters.get("invalid_reports")
    assert d.reports(mark) == [] and d.risk_events(mark) == []  # nothing to tell: the fill said it all
    o = d.engine.orders[1]
    assert (o.status, o.cum_qty, o.leaves, o.pending) == (OrdStatus.Filled, 1_000, 0, None)
    assert d.engine.working_count == 0
    check_invariants(d.engine)
    # the WAL replays to the same state
    engine, _ = replayed(d)
    assert state_of(engine) == state_of(d.engine)


def test_a_replace_refused_on_a_working_order_is_still_reported() -> None:
    """The late path is for finished orders only: a refusal on a live order still restores it."""
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID - 500)
    d.ack(1)
    d.replace(1, 12, 11, MID - 300, 1_500)
    d.fill(1, 400, MID - 500)
    mark = len(d.out)
    d.report(1, ExecType.ReplaceRejected, OrdStatus.PartiallyFilled)
    [refused] = d.reports(mark)
    assert (refused.execType, refused.ordStatus) == (ExecType.ReplaceRejected, OrdStatus.PartiallyFilled)
    assert (refused.price, refused.qty, refused.leavesQty) == (MID - 500, 1_000, 600)
    assert not [e for e in d.risk_events(mark) if e.eventType == RiskEventType.CheckFired]
    check_invariants(d.engine)
