"""Venue reports duplicated, reordered, late or for unknown orders: never double counted."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.codec.messages import ExecType, OrdStatus, Reason, RiskEventType, Side
from tests.core.oms.harness import BTC, Desk, check_invariants, config

MID = 6_000_000


def working_order(qty: int = 1_000) -> Desk:
    d = Desk(config())
    d.book(BTC, MID - 50, MID + 50)
    d.order(1, 1, BTC, Side.Buy, qty, MID)
    return d


def net(d: Desk) -> tuple[int, int]:
    pos = d.engine.ledger.positions
    return pos[("s", 1, BTC)].net, pos[("a", 1, BTC)].net


def test_a_duplicated_fill_is_booked_once():
    d = working_order()
    d.ack(1, exec_id=1)
    d.fill(1, 400, MID, exec_id=2)
    mark = len(d.out)
    d.fill(1, 400, MID, exec_id=2)  # redelivered
    assert d.since(mark) == []
    assert net(d) == (400, 400) and d.engine.orders[1].cum_qty == 400
    assert d.engine.counters["duplicate_reports"] == 1


def test_exec_ids_are_unique_per_venue_not_across_venues():
    d = working_order()
    d.fill(1, 100, MID, exec_id=7, venue=1)
    d.fill(1, 100, MID, exec_id=7, venue=2)  # another venue's 7 is another execution
    assert net(d) == (200, 200)


def test_a_fill_before_the_ack_and_the_ack_after_it():
    d = working_order()
    mark = len(d.out)
    d.fill(1, 1_000, MID, exec_id=5)
    d.ack(1, exec_id=4)  # the ack was overtaken
    assert [(r.execType, r.ordStatus) for r in d.reports(mark)] == [(ExecType.Trade, OrdStatus.Filled)]
    assert d.engine.orders[1].status == OrdStatus.Filled and d.engine.counters["stale_acks"] == 1
    assert net(d) == (1_000, 1_000) and d.engine.working_count == 0


def test_a_cancel_ack_after_the_fill_that_completed_the_order_changes_nothing():
    d = working_order()
    d.ack(1)
    d.cancel(1, 2, 1)
    d.fill(1, 1_000, MID)  # the fill won the race
    mark = len(d.out)
    d.canceled(1)
    assert d.since(mark) == []
    assert d.engine.orders[1].status == OrdStatus.Filled and d.engine.counters["late_reports"] == 1
    assert net(d) == (1_000, 1_000)


def test_a_fill_delivered_after_the_cancel_ack_is_still_booked():
    d = working_order()
    d.ack(1)
    d.fill(1, 300, MID, exec_id=10)
    d.canceled(1, exec_id=12)
    d.fill(1, 200, MID, exec_id=11)  # happened before the cancel; delivered after it
    o = d.engine.orders[1]
    assert o.status == OrdStatus.Canceled and o.cum_qty == 500 and o.leaves == 0
    assert net(d) == (500, 500) and d.engine.counters["late_fills"] == 1
    assert d.engine.exposure.strategy[(1, BTC)] == [500, 0, 0]


def test_reports_for_unknown_orders_are_counted_reported_and_never_booked():
    d = working_order()
    mark = len(d.out)
    d.fill(77, 500, MID)
    d.canceled(78)
    assert d.engine.counters["unknown_order_reports"] == 2
    events = d.risk_events(mark)
    assert [(e.eventType, e.reason) for e in events] == [(RiskEventType.CheckFired, Reason.UnknownOrder)] * 2
    assert "unknown order 77" in events[0].text
    assert ("s", 1, BTC) not in d.engine.ledger.positions
    assert d.reports(mark) == []


def test_bad_bytes_are_counted_and_change_nothing():
    d = working_order()
    mark = len(d.out)
    d.send(b"\x00\x01garbage")
    d.send(b"")
    assert d.engine.counters["bad_inputs"] == 2 and d.since(mark) == []


@st.composite
def report_storms(draw):
    qty = 1_000
    fills = draw(st.lists(st.integers(1, 400), min_size=1, max_size=6))
    total, kept = 0, []
    for f in fills:
        if total + f > qty:
            break
        kept.append(f)
        total += f
    events = [("ack", 1, 0)] + [("fill", 2 + i, q) for i, q in enumerate(kept)]
    if total < qty and draw(st.booleans()):
        events.append(("cancel", 100, 0))
    dupes = draw(st.lists(st.sampled_from(events), max_size=6))
    order = draw(st.permutations(events + dupes))
    return qty, kept, any(e[0] == "cancel" for e in events), order


@settings(max_examples=150, deadline=None)
@given(report_storms())
def test_any_order_and_duplication_of_reports_books_each_fill_once(storm):
    qty, fills, canceled, sequence = storm
    d = working_order(qty)
    for kind, exec_id, q in sequence:
        if kind == "ack":
            d.ack(1, exec_id=exec_id)
        elif kind == "fill":
            d.fill(1, q, MID, exec_id=exec_id)
        else:
            d.canceled(1, exec_id=exec_id)
    total = sum(fills)
    o = d.engine.orders[1]
    assert o.cum_qty == total
    assert net(d) == (total, total)
    trades = [r for r in d.reports() if r.execType == ExecType.Trade]
    assert sorted(r.lastQty for r in trades) == sorted(fills)
    if total == qty:
        assert o.status == OrdStatus.Filled
    elif canceled:
        assert o.status == OrdStatus.Canceled
    else:
        assert o.status in (OrdStatus.New, OrdStatus.PartiallyFilled)
    assert d.engine.working_count == (1 if o.working else 0)
    assert d.engine.exposure.strategy[(1, BTC)] == [total, o.leaves, 0]
    check_invariants(d.engine)
