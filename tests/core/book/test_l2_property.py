"""Property test: random operation sequences drive both L2 implementations, which must always agree
on every observable (and stay internally consistent)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.book import BookSide, FastL2Book, ReferenceL2Book, SequenceGapError

prices = st.integers(min_value=90, max_value=110)  # a narrow band: many collisions, deletes, crosses
qtys = st.one_of(st.just(0), st.integers(min_value=1, max_value=50))
sides = st.sampled_from([BookSide.BID, BookSide.ASK])
levels = st.lists(
    st.tuples(prices, st.integers(min_value=0, max_value=50)), max_size=8, unique_by=lambda x: x[0]
)
update_ids = st.integers(min_value=0, max_value=30)

operations = st.one_of(
    st.tuples(st.just("snapshot"), levels, levels, update_ids),
    st.tuples(st.just("delta"), sides, prices, qtys),
    st.tuples(
        st.just("deltas"),
        st.lists(st.tuples(sides, prices, qtys), max_size=6),
        update_ids,
        st.one_of(st.none(), update_ids),
    ),
    st.tuples(st.just("clear")),
)


def observe(book, probe_prices):
    return (
        book.update_id,
        book.best_bid(),
        book.best_ask(),
        book.depth(BookSide.BID),
        book.depth(BookSide.ASK),
        book.depth(BookSide.BID, 3),
        book.depth(BookSide.ASK, 3),
        book.level_count(BookSide.BID),
        book.level_count(BookSide.ASK),
        book.mid_x2(),
        book.mid(),
        book.spread(),
        book.is_crossed(),
        tuple(book.qty_at(s, p) for s in BookSide for p in probe_prices),
    )


def run(book, op):
    """Apply one operation; returns the exception type it raised (part of the observable behaviour)."""
    try:
        kind = op[0]
        if kind == "snapshot":
            book.apply_snapshot(op[1], op[2], op[3])
        elif kind == "delta":
            book.apply_delta(op[1], op[2], op[3])
        elif kind == "deltas":
            book.apply_deltas(op[1], op[2], op[3])
        else:
            book.clear()
    except (SequenceGapError, ValueError) as e:
        return type(e)
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(operations, max_size=40), st.lists(prices, min_size=3, max_size=3))
def test_reference_and_fast_books_agree_on_every_observable(ops, probe_prices):
    ref, fast = ReferenceL2Book(3), FastL2Book(3)
    for op in ops:
        assert run(ref, op) == run(fast, op)
        ref.check_invariants()
        fast.check_invariants()
        assert observe(ref, probe_prices) == observe(fast, probe_prices), op
