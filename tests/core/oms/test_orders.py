"""The order state machine: valid transitions move, invalid ones are refused and change nothing."""

from __future__ import annotations

import pytest

from core.codec.messages import OrdStatus as S
from core.codec.messages import OrdType, Side, TimeInForce
from core.oms.orders import InvalidTransition, Order

VALID = [
    (S.PendingNew, S.New),
    (S.PendingNew, S.PartiallyFilled),
    (S.PendingNew, S.Filled),
    (S.PendingNew, S.Rejected),
    (S.PendingNew, S.Canceled),
    (S.PendingNew, S.Expired),
    (S.PendingNew, S.PendingCancel),
    (S.New, S.PartiallyFilled),
    (S.New, S.Filled),
    (S.New, S.PendingCancel),
    (S.New, S.PendingReplace),
    (S.New, S.Canceled),
    (S.New, S.Expired),
    (S.PartiallyFilled, S.PartiallyFilled),
    (S.PartiallyFilled, S.Filled),
    (S.PartiallyFilled, S.PendingCancel),
    (S.PartiallyFilled, S.PendingReplace),
    (S.PartiallyFilled, S.Canceled),
    (S.PartiallyFilled, S.Expired),
    (S.PendingCancel, S.Canceled),
    (S.PendingCancel, S.Filled),
    (S.PendingCancel, S.New),
    (S.PendingCancel, S.PartiallyFilled),
    (S.PendingCancel, S.PendingCancel),
    (S.PendingCancel, S.Expired),
    (S.PendingCancel, S.PendingNew),
    (S.PendingReplace, S.Replaced),
    (S.PendingReplace, S.Filled),
    (S.PendingReplace, S.New),
    (S.PendingReplace, S.PartiallyFilled),
    (S.PendingReplace, S.PendingReplace),
    (S.PendingReplace, S.Canceled),
    (S.PendingReplace, S.Expired),
    (S.Replaced, S.New),
    (S.Replaced, S.PartiallyFilled),
    (S.Replaced, S.Filled),
]

INVALID = [
    (S.PendingNew, S.PendingReplace),  # a replace waits for the ack
    (S.PendingNew, S.Replaced),
    (S.New, S.New),
    (S.New, S.Rejected),
    (S.New, S.Replaced),
    (S.New, S.PendingNew),
    (S.PartiallyFilled, S.New),
    (S.PartiallyFilled, S.Rejected),
    (S.PendingCancel, S.PendingReplace),
    (S.PendingCancel, S.Rejected),
    (S.PendingCancel, S.Replaced),
    (S.PendingReplace, S.PendingCancel),
    (S.PendingReplace, S.Rejected),
    (S.Replaced, S.Canceled),
    (S.Replaced, S.PendingCancel),
    # terminal states have no way out
    *[(t, to) for t in (S.Filled, S.Canceled, S.Rejected, S.Expired) for to in S if not to.is_unknown],
]


def order_in(status: S) -> Order:
    o = Order(1, 10, 1, 7, 0, 1, 1, 1, Side.Buy, OrdType.Limit, TimeInForce.GTC, 0, 100, 5, ts=0)
    o.status = status
    return o


@pytest.mark.parametrize(("frm", "to"), VALID, ids=lambda s: s.name)
def test_valid_transition_moves(frm, to):
    o = order_in(frm)
    o.move(to, ts=5)
    assert o.status == to and o.updated_ts == 5


@pytest.mark.parametrize(("frm", "to"), INVALID, ids=lambda s: s.name)
def test_invalid_transition_is_refused_and_changes_nothing(frm, to):
    o = order_in(frm)
    with pytest.raises(InvalidTransition) as e:
        o.move(to, ts=5)
    assert o.status == frm and o.updated_ts == 0
    assert e.value.from_status == frm and e.value.to_status == to
    assert frm.name in str(e.value) and to.name in str(e.value)


def test_pending_states_remember_where_to_return():
    o = order_in(S.PartiallyFilled)
    o.move(S.PendingCancel, 1)
    o.move(S.PendingCancel, 2)  # a fill while pending keeps the pending status ...
    assert o.prior == S.PartiallyFilled  # ... and the status to return to
    o.move(o.prior, 3)
    assert o.status == S.PartiallyFilled


def test_leaves_are_zero_once_terminal():
    o = order_in(S.New)
    o.cum_qty = 2
    assert o.leaves == 3 and o.working
    o.move(S.Canceled, 1)
    assert o.leaves == 0 and not o.working
