"""Property test: random add/cancel/delete/execute/seed/truncate sequences keep the L3 book's invariants,
and its aggregated levels always equal a naive recomputation from the live orders."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.book.interface import BookSide
from core.book.l3 import L3Book, LevelView, OrderView

BID, ASK = BookSide.BID, BookSide.ASK
# Bids below 100, asks from 100: the book can never cross, whatever the sequence.
PRICES = {BID: range(90, 100), ASK: range(100, 110)}


class NaiveBook:
    """The obvious model: live orders in arrival order, plus unattributed size per level."""

    def __init__(self) -> None:
        self.orders: dict[int, list] = {}  # id -> [side, price, size], insertion order = time priority
        self.unattributed: dict[tuple[BookSide, int], int] = {}

    def _take_unattributed(self, side: BookSide, price: int, size: int) -> None:
        have = self.unattributed.get((side, price), 0)
        left = have - min(size, have)
        if left:
            self.unattributed[(side, price)] = left
        else:
            self.unattributed.pop((side, price), None)

    def add(self, oid: int, side: BookSide, price: int, size: int) -> None:
        if oid not in self.orders:
            self.orders[oid] = [side, price, size]

    def reduce(self, oid: int, size: int, side: BookSide, price: int) -> None:
        if oid in self.orders:
            o = self.orders[oid]
            if size >= o[2]:
                del self.orders[oid]
            else:
                o[2] -= size
        else:
            self._take_unattributed(side, price, size)

    def delete(self, oid: int, side: BookSide, price: int, size: int) -> None:
        if oid in self.orders:
            del self.orders[oid]
        else:
            self._take_unattributed(side, price, size)

    def seed(self, side: BookSide, price: int, size: int) -> None:
        self.unattributed[(side, price)] = self.unattributed.get((side, price), 0) + size

    def levels(self, side: BookSide) -> list[LevelView]:
        agg: dict[int, list[int]] = {}
        for s, price, size in self.orders.values():
            if s is side:
                lv = agg.setdefault(price, [0, 0, 0])
                lv[0] += size
                lv[1] += 1
        for (s, price), size in self.unattributed.items():
            if s is side:
                lv = agg.setdefault(price, [0, 0, 0])
                lv[0] += size
                lv[2] += size
        ordered = sorted(agg, reverse=side is BID)
        return [LevelView(p, agg[p][0], agg[p][1], agg[p][2]) for p in ordered]

    def truncate(self, side: BookSide, depth: int) -> None:
        keep = {lv.price for lv in self.levels(side)[:depth]}
        for oid in [i for i, (s, p, _) in self.orders.items() if s is side and p not in keep]:
            del self.orders[oid]
        for key in [k for k in self.unattributed if k[0] is side and k[1] not in keep]:
            del self.unattributed[key]


sides = st.sampled_from([BID, ASK])
sizes = st.integers(1, 150)
known_ids = st.integers(1, 25)  # reused after removal, and sometimes re-added while live (duplicate)
unknown_ids = st.integers(1000, 1010)  # never added


@st.composite
def operations(draw):
    kind = draw(
        st.sampled_from(
            ["add", "add", "add", "cancel", "delete", "execute", "hidden", "seed", "truncate", "unknown"]
        )
    )
    side = draw(sides)
    price = draw(st.sampled_from(PRICES[side]))
    if kind == "add":
        return ("add", draw(known_ids), side, price, draw(sizes))
    if kind in ("cancel", "delete", "execute"):
        return (kind, draw(known_ids), side, price, draw(sizes))
    if kind == "unknown":
        return (
            draw(st.sampled_from(["cancel", "delete", "execute"])),
            draw(unknown_ids),
            side,
            price,
            draw(sizes),
        )
    if kind == "hidden":
        return ("hidden", 0, side, price, draw(sizes))
    if kind == "seed":
        return ("seed", 0, side, price, draw(sizes))
    return ("truncate", 0, side, 0, draw(st.integers(0, 6)))


def apply(book: L3Book, model: NaiveBook, op: tuple) -> None:
    kind, oid, side, price, size = op
    live = model.orders.get(oid)
    if live is not None:
        side, price = live[0], live[1]  # the feed names a known order's real side and price
    if kind == "add":
        book.add(oid, side, price, size)
        model.add(oid, side, price, size)
    elif kind == "cancel":
        book.cancel(oid, size, side, price)
        model.reduce(oid, size, side, price)
    elif kind == "execute":
        book.execute(oid, size, side, price)
        model.reduce(oid, size, side, price)
    elif kind == "delete":
        book.delete(oid, side, price, size)
        model.delete(oid, side, price, size)
    elif kind == "hidden":
        book.execute_hidden(size)
    elif kind == "seed":
        book.seed(side, price, size)
        model.seed(side, price, size)
    else:
        book.truncate(side, size)
        model.truncate(side, size)


@settings(max_examples=300, deadline=None)
@given(st.lists(operations(), min_size=1, max_size=120))
def test_random_sequences_match_naive_recomputation(ops: list[tuple]) -> None:
    book, model = L3Book(), NaiveBook()
    for op in ops:
        apply(book, model, op)
        book.check_invariants()
        for side in (BID, ASK):
            assert book.levels(side) == model.levels(side), op
            for lv in model.levels(side):
                expected = [
                    OrderView(i, s, p, q)
                    for i, (s, p, q) in model.orders.items()
                    if s is side and p == lv.price
                ]
                assert book.orders_at(side, lv.price) == expected  # time priority kept
        assert len(book) == len(model.orders)
    s = book.stats
    assert s.adds == sum(op[0] == "add" for op in ops)
    assert s.hidden_executions == sum(op[0] == "hidden" for op in ops)
