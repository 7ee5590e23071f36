"""The two own-order books behind the engine keep the same price-time contract."""

from __future__ import annotations

import random

import pytest

from core.codec.messages import Side
from core.sim.orders import NewOrderRequest, SimOrder
from core.sim.own_book import BOOKS, FastOwnBook, ReferenceOwnBook


def order(oid: int, side: Side, price: int, seq: int) -> SimOrder:
    o = SimOrder(NewOrderRequest(instrument_id=1, cl_ord_id=oid, side=side, qty=1, price=price), oid, 0, 0)
    o.seq = seq
    return o


@pytest.mark.parametrize("name", list(BOOKS))
def test_levels_are_best_first_and_time_ordered(name):
    book = BOOKS[name]()
    orders = [order(1, Side.Buy, 100, 1), order(2, Side.Buy, 101, 2), order(3, Side.Buy, 100, 3)]
    orders += [order(4, Side.Sell, 105, 4), order(5, Side.Sell, 103, 5)]
    for o in orders:
        book.add(o)
    assert len(book) == 5
    assert book.best(Side.Buy) == 101 and book.best(Side.Sell) == 103
    assert book.prices(Side.Buy) == [101, 100] and book.prices(Side.Sell) == [103, 105]
    assert [o.venue_order_id for o in book.level(Side.Buy, 100)] == [1, 3]
    assert book.first(Side.Buy, 100).venue_order_id == 1 and book.first(Side.Buy, 99) is None
    book.remove(orders[0])
    assert [o.venue_order_id for o in book.level(Side.Buy, 100)] == [3]
    book.remove(orders[2])
    assert not book.has_level(Side.Buy, 100) and book.prices(Side.Buy) == [101]
    assert [o.venue_order_id for o in book.orders()] == [2, 5, 4]


def test_fast_and_reference_answer_alike_on_random_operations():
    rng = random.Random(1)
    fast, ref = FastOwnBook(), ReferenceOwnBook()
    live: list[SimOrder] = []
    for i in range(1, 3000):
        if live and rng.random() < 0.45:
            o = live.pop(rng.randrange(len(live)))
            fast.remove(o)
            ref.remove(o)
        else:
            o = order(i, rng.choice([Side.Buy, Side.Sell]), rng.randint(90, 110), i)
            fast.add(o)
            ref.add(o)
            live.append(o)
        for side in (Side.Buy, Side.Sell):
            assert fast.best(side) == ref.best(side)
            assert fast.prices(side) == ref.prices(side)
        p = rng.randint(90, 110)
        assert fast.level(Side.Buy, p) == ref.level(Side.Buy, p)
    assert len(fast) == len(ref) == len(live)


def test_removing_an_order_that_is_not_there_fails_loudly():
    with pytest.raises(KeyError):
        ReferenceOwnBook().remove(order(1, Side.Buy, 100, 1))
    with pytest.raises(KeyError):
        FastOwnBook().remove(order(1, Side.Buy, 100, 1))
