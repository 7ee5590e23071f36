"""A long session's memory stays bounded: request ids and applied executions are remembered with their
order (working, or among the last `finished_memory` finished ones), refused ids and reports for unknown
orders for the last `finished_memory` of them. Forgetting never books anything twice."""

from __future__ import annotations

from core.codec.messages import ExecType, OrdStatus, Reason, Side
from tests.core.oms.harness import BTC, Desk, check_invariants, config

MID = 6_000_000
MEMORY = 3


def desk() -> Desk:
    d = Desk(config())
    d.engine.finished_memory = MEMORY
    d.book(BTC, MID - 50, MID + 50)
    return d


def filled_orders(d: Desk, count: int, first_cl: int = 1) -> list[int]:
    """`count` orders of strategy 1, each acked and filled in full (buys and sells alternate: flat)."""
    order_ids = []
    for i in range(count):
        d.order(1, first_cl + i, BTC, Side.Buy if i % 2 == 0 else Side.Sell, 100, MID)
        oid = d.last_order_id()
        d.ack(oid, exec_id=1_000 + 2 * oid)
        d.fill(oid, 100, MID, exec_id=1_001 + 2 * oid)
        order_ids.append(oid)
    return order_ids


def net(d: Desk) -> int:
    return d.engine.ledger.positions[("s", 1, BTC)].net


def test_finished_orders_their_request_ids_and_executions_are_forgotten_past_the_memory():
    d = desk()
    oids = filled_orders(d, 10)
    e = d.engine
    assert [o.status for o in (e.orders[oid] for oid in oids[-MEMORY:])] == [OrdStatus.Filled] * MEMORY
    assert sorted(e.orders) == oids[-MEMORY:]
    assert sorted(e.seen_exec) == oids[-MEMORY:]
    assert sorted(e.cl_ord_ids.values()) == oids[-MEMORY:]
    check_invariants(e)


def test_a_late_duplicate_fill_is_never_booked_whether_its_order_is_remembered_or_not():
    d = desk()
    oids = filled_orders(d, 10)
    before = net(d)
    d.fill(oids[-1], 100, MID, exec_id=1_001 + 2 * oids[-1])  # remembered: a duplicate
    assert d.engine.counters["duplicate_reports"] == 1
    mark = len(d.out)
    d.fill(oids[0], 100, MID, exec_id=1_001 + 2 * oids[0])  # forgotten: an unknown order
    assert d.engine.counters["unknown_order_reports"] == 1
    assert [e.reason for e in d.risk_events(mark)] == [Reason.UnknownOrder]
    assert net(d) == before and d.reports(mark) == []


def test_a_working_order_is_never_forgotten_however_many_finish_after_it():
    d = desk()
    d.order(1, 500, BTC, Side.Buy, 100, MID - 10)
    resting = d.last_order_id()
    d.ack(resting)
    filled_orders(d, 10)
    mark = len(d.out)
    d.cancel(1, 501, 500)  # by its clOrdId, after ten others came and went
    assert [v.orderId for v in d.venue_orders(mark)] == [resting]
    d.fill(resting, 40, MID - 10, exec_id=9_000)
    d.fill(resting, 40, MID - 10, exec_id=9_000)
    assert d.engine.orders[resting].cum_qty == 40
    assert d.engine.counters["duplicate_reports"] == 1


def test_a_request_id_is_refused_as_a_duplicate_while_its_order_is_remembered():
    d = desk()
    filled_orders(d, 10)
    mark = len(d.out)
    d.order(1, 10, BTC, Side.Buy, 100, MID)  # the last order's id: remembered
    (refusal,) = d.reports(mark)
    assert (refusal.execType, refusal.reason) == (ExecType.Rejected, Reason.DuplicateClOrdId)
    mark = len(d.out)
    d.order(1, 1, BTC, Side.Buy, 100, MID)  # the first order's id: forgotten with its order
    (accepted,) = d.reports(mark)
    assert accepted.ordStatus == OrdStatus.PendingNew


def test_ids_of_refused_requests_are_remembered_for_the_last_few_only():
    d = desk()
    for cl in range(1, 11):
        d.order(1, cl, 999, Side.Buy, 100, MID)  # no such instrument: refused
    assert d.engine.counters["unknown_order_reports"] == 0
    refused = [k for k, v in d.engine.cl_ord_ids.items() if v == 0]
    assert sorted(refused) == [(1, 8), (1, 9), (1, 10)]
    mark = len(d.out)
    d.order(1, 10, BTC, Side.Buy, 100, MID)
    assert [r.reason for r in d.reports(mark)] == [Reason.DuplicateClOrdId]


def test_reports_for_unknown_orders_are_deduplicated_for_the_last_few():
    d = desk()
    for oid in range(100, 110):
        d.fill(oid, 100, MID, exec_id=oid)
    assert d.engine.counters["unknown_order_reports"] == 10
    assert len(d.engine.unknown_exec) == MEMORY
    d.fill(109, 100, MID, exec_id=109)  # the same report again: a duplicate, not a second event
    assert d.engine.counters["duplicate_reports"] == 1
    assert d.engine.counters["unknown_order_reports"] == 10
