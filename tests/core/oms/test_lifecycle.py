"""Order lifecycles through the engine: requests, venue answers, and the reports the strategy sees."""

from __future__ import annotations

from core.codec.messages import (
    CancelOrder,
    ExecType,
    NewOrder,
    OrdStatus,
    Reason,
    ReplaceOrder,
    RiskEventType,
    Side,
    TimeInForce,
)
from tests.core.oms.harness import BTC, Desk, config

BID, ASK, MID = 5_999_950, 6_000_050, 6_000_000


def desk() -> Desk:
    d = Desk(config())
    d.book(BTC, BID, ASK)
    return d


def statuses(d: Desk, mark: int) -> list[tuple[ExecType, OrdStatus]]:
    return [(r.execType, r.ordStatus) for r in d.reports(mark)]


def test_new_ack_partial_fill_full_fill():
    d = desk()
    mark = d.order(1, 11, BTC, Side.Buy, 1_000, MID)
    [venue] = d.venue_orders(mark)
    assert isinstance(venue, NewOrder) and venue.orderId == 1 and venue.clOrdId == 11
    d.ack(1)
    d.fill(1, 400, MID)
    d.fill(1, 600, MID - 100)
    assert statuses(d, mark) == [
        (ExecType.PendingNew, OrdStatus.PendingNew),
        (ExecType.New, OrdStatus.New),
        (ExecType.Trade, OrdStatus.PartiallyFilled),
        (ExecType.Trade, OrdStatus.Filled),
    ]
    last = d.reports(mark)[-1]
    assert (last.cumQty, last.leavesQty, last.lastQty, last.lastPx) == (1_000, 0, 600, MID - 100)
    assert d.engine.working_count == 0 and d.engine.risk.open_orders[1] == 0
    assert d.engine.exposure.strategy[(1, BTC)] == [1_000, 0, 0]


def test_cancel_request_then_ack():
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID)
    d.ack(1)
    mark = len(d.out)
    d.cancel(1, 12, 11)
    [venue] = d.venue_orders(mark)
    assert isinstance(venue, CancelOrder) and (venue.orderId, venue.clOrdId, venue.origClOrdId) == (1, 12, 11)
    d.canceled(1)
    assert statuses(d, mark) == [
        (ExecType.PendingCancel, OrdStatus.PendingCancel),
        (ExecType.Canceled, OrdStatus.Canceled),
    ]
    assert d.engine.exposure.strategy[(1, BTC)] == [0, 0, 0]


def test_cancel_rejected_returns_to_the_prior_status():
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID)
    d.ack(1)
    d.fill(1, 300, MID)
    d.cancel(1, 12, 11)
    mark = len(d.out)
    d.report(1, ExecType.CancelRejected, OrdStatus.PartiallyFilled, reason=Reason.Other)
    assert statuses(d, mark) == [(ExecType.CancelRejected, OrdStatus.PartiallyFilled)]
    assert d.engine.orders[1].status == OrdStatus.PartiallyFilled and d.engine.orders[1].leaves == 700


def test_replace_takes_new_terms_under_the_same_order_id():
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID - 500)
    d.ack(1)
    d.fill(1, 200, MID - 500)
    mark = len(d.out)
    d.replace(1, 12, 11, MID - 300, 1_500)
    [venue] = d.venue_orders(mark)
    assert isinstance(venue, ReplaceOrder) and (venue.orderId, venue.qty, venue.price) == (
        1,
        1_500,
        MID - 300,
    )
    assert d.engine.exposure.strategy[(1, BTC)] == [200, 800, 0]  # nothing changes before the venue says so
    d.report(1, ExecType.Replaced, OrdStatus.PartiallyFilled)
    reports = d.reports(mark)
    assert [(r.execType, r.ordStatus) for r in reports] == [
        (ExecType.PendingReplace, OrdStatus.PendingReplace),
        (ExecType.Replaced, OrdStatus.Replaced),
    ]
    assert (reports[1].clOrdId, reports[1].origClOrdId) == (12, 11)
    o = d.engine.orders[1]
    assert (o.status, o.cl_ord_id, o.price, o.qty, o.leaves) == (
        OrdStatus.PartiallyFilled,
        12,
        MID - 300,
        1_500,
        1_300,
    )
    assert d.engine.exposure.strategy[(1, BTC)] == [200, 1_300, 0]
    d.cancel(1, 13, 12)  # the new clOrdId names it now
    assert d.engine.orders[1].status == OrdStatus.PendingCancel


def test_replace_rejected_keeps_the_old_terms():
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID - 500)
    d.ack(1)
    d.replace(1, 12, 11, MID - 300, 1_500)
    mark = len(d.out)
    d.report(1, ExecType.ReplaceRejected, OrdStatus.New)
    assert statuses(d, mark) == [(ExecType.ReplaceRejected, OrdStatus.New)]
    o = d.engine.orders[1]
    assert (o.cl_ord_id, o.price, o.qty, o.status) == (11, MID - 500, 1_000, OrdStatus.New)


def test_requests_on_orders_that_cannot_take_them_are_refused():
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID)
    mark = len(d.out)
    d.replace(1, 12, 11, MID, 2_000)  # not acked yet
    d.cancel(1, 13, 99)  # unknown
    d.ack(1)
    d.fill(1, 1_000, MID)
    d.cancel(1, 14, 11)  # filled
    refused = [
        (r.execType, r.reason)
        for r in d.reports(mark)
        if r.execType in (ExecType.CancelRejected, ExecType.ReplaceRejected)
    ]
    assert refused == [
        (ExecType.ReplaceRejected, Reason.Other),
        (ExecType.CancelRejected, Reason.UnknownOrder),
        (ExecType.CancelRejected, Reason.TooLateToCancel),
    ]
    assert d.venue_orders(mark) == []


def test_a_strategy_cannot_cancel_another_strategys_order():
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID)
    d.ack(1)
    mark = len(d.out)
    d.cancel(2, 1, 0, order_id=1)
    assert [(r.execType, r.reason) for r in d.reports(mark)] == [
        (ExecType.CancelRejected, Reason.UnknownOrder)
    ]
    assert d.engine.orders[1].status == OrdStatus.New


def test_venue_reject_and_ioc_expiry_end_the_order():
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID)
    d.report(1, ExecType.Rejected, OrdStatus.Rejected, reason=Reason.VenueReject)
    d.order(1, 12, BTC, Side.Buy, 1_000, MID, tif=TimeInForce.IOC)
    d.ack(2)
    d.fill(2, 400, MID)
    d.report(2, ExecType.Expired, OrdStatus.Expired)
    assert d.engine.orders[1].status == OrdStatus.Rejected
    assert d.engine.orders[2].status == OrdStatus.Expired and d.engine.orders[2].cum_qty == 400
    assert d.engine.working_count == 0 and d.engine.exposure.strategy[(1, BTC)] == [400, 0, 0]


def test_a_report_the_state_machine_refuses_is_counted_and_changes_nothing():
    d = desk()
    d.order(1, 11, BTC, Side.Buy, 1_000, MID)
    d.ack(1)
    mark = len(d.out)
    d.report(1, ExecType.Replaced, OrdStatus.New)  # no replace was asked for
    assert d.engine.counters["invalid_reports"] == 1
    [ev] = d.risk_events(mark)
    assert ev.eventType == RiskEventType.CheckFired and "Replaced" in ev.text
    assert d.reports(mark) == [] and d.engine.orders[1].status == OrdStatus.New


def test_order_ids_are_assigned_by_the_oms_in_sequence():
    d = desk()
    for cl in (5, 3, 9):
        d.order(4, cl, BTC, Side.Buy, 100, MID)
    assert [(o.order_id, o.cl_ord_id) for o in d.engine.orders.values()] == [(1, 5), (2, 3), (3, 9)]


def test_a_replace_goes_through_the_same_risk_checks():
    d = Desk(config(instruments={BTC: {"max_order_qty": "0.2", "max_position": "0.3"}}))
    d.book(BTC, BID, ASK)
    d.order(1, 11, BTC, Side.Buy, 1_000, MID)
    d.ack(1)
    d.order(1, 12, BTC, Side.Buy, 1_500, MID)
    d.ack(2)
    mark = len(d.out)
    d.replace(1, 13, 11, MID, 2_001)  # over max_order_qty
    d.replace(1, 14, 11, MID, 1_600)  # 0.16 + the other order's 0.15 > 0.3
    d.replace(1, 15, 11, MID, 1_500)  # 0.15 + 0.15 = 0.3: fits (its own old size does not count)
    got = [(r.execType, r.reason) for r in d.reports(mark)]
    assert got == [
        (ExecType.ReplaceRejected, Reason.MaxOrderQty),
        (ExecType.ReplaceRejected, Reason.MaxPosition),
        (ExecType.PendingReplace, Reason(0)),
    ]
    fired = [e.reason for e in d.risk_events(mark) if e.eventType == RiskEventType.CheckFired]
    assert fired == [Reason.MaxOrderQty, Reason.MaxPosition]
    assert d.engine.exposure.strategy[(1, BTC)] == [0, 2_500, 0]  # unchanged until the venue replaces
