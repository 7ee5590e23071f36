"""The shared L2 book suite: every test runs on both implementations, with check_invariants() after
every write (see Checked)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from core.book import BookInvariantError, BookSide, FastL2Book, L2Book, ReferenceL2Book, SequenceGapError

BID, ASK = BookSide.BID, BookSide.ASK


BOOK_CLASSES = [ReferenceL2Book, FastL2Book]
WRITES = {"apply_snapshot", "apply_delta", "apply_deltas", "clear"}


class Checked:
    """Proxy that runs the book's internal-consistency check after every operation, even a failed one."""

    def __init__(self, book: L2Book) -> None:
        self.book = book
        self.checks = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.book, name)
        if name not in WRITES:
            return attr

        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            finally:
                self.book.check_invariants()
                self.checks += 1

        return checked


@pytest.fixture(params=BOOK_CLASSES, ids=lambda c: c.__name__)
def book_class(request: pytest.FixtureRequest) -> type[L2Book]:
    return request.param


@pytest.fixture
def book(book_class: type[L2Book]) -> Checked:
    return Checked(book_class(instrument_id=7))


def test_empty_book_has_no_prices(book):
    assert book.best_bid() is None
    assert book.best_ask() is None
    assert book.depth(BID) == [] and book.depth(ASK, 5) == []
    assert book.mid_x2() is None and book.mid() is None and book.spread() is None
    assert not book.is_crossed()
    assert book.update_id == 0
    assert book.level_count(BID) == book.level_count(ASK) == 0


def test_snapshot_in_any_order_reads_best_first(book):
    book.apply_snapshot(bids=[(99, 5), (101, 1), (100, 2)], asks=[(105, 3), (103, 4), (104, 9)], update_id=42)
    assert book.best_bid() == (101, 1)
    assert book.best_ask() == (103, 4)
    assert book.depth(BID) == [(101, 1), (100, 2), (99, 5)]
    assert book.depth(ASK) == [(103, 4), (104, 9), (105, 3)]
    assert book.depth(BID, 2) == [(101, 1), (100, 2)]
    assert book.depth(ASK, 10) == [(103, 4), (104, 9), (105, 3)]
    assert book.depth(ASK, 0) == []
    assert book.update_id == 42
    assert book.instrument_id == 7


def test_snapshot_replaces_everything_and_skips_empty_levels(book):
    book.apply_snapshot([(100, 1), (99, 1)], [(101, 1)], update_id=1)
    book.apply_snapshot([(98, 3), (97, 0)], [(102, 2)], update_id=2)
    assert book.depth(BID) == [(98, 3)]
    assert book.depth(ASK) == [(102, 2)]
    assert book.qty_at(BID, 100) == 0 and book.qty_at(BID, 97) == 0
    assert book.level_count(BID) == 1


@pytest.mark.parametrize(
    ("bids", "asks", "message"),
    [
        ([(100, 1), (100, 2)], [], "twice"),
        ([], [(101, -1)], "negative"),
        ([(100.5, 1)], [], "int"),
        ([(100, True)], [], "int"),
    ],
)
def test_bad_snapshot_is_refused_and_leaves_the_book_as_it_was(book, bids, asks, message):
    book.apply_snapshot([(90, 1)], [(110, 1)], update_id=5)
    with pytest.raises(ValueError, match=message):
        book.apply_snapshot(bids, asks, update_id=6)
    assert book.depth(BID) == [(90, 1)] and book.depth(ASK) == [(110, 1)]
    assert book.update_id == 5


def test_delta_inserts_updates_and_deletes(book):
    book.apply_snapshot([(100, 1)], [(102, 1)])
    book.apply_delta(BID, 101, 7)  # new best bid
    book.apply_delta(BID, 99, 3)  # new level below
    book.apply_delta(ASK, 102, 9)  # update in place
    book.apply_delta(ASK, 103, 2)
    assert book.depth(BID) == [(101, 7), (100, 1), (99, 3)]
    assert book.depth(ASK) == [(102, 9), (103, 2)]
    book.apply_delta(BID, 101, 0)  # delete the best
    book.apply_delta(BID, 100, 0)  # and the next
    book.apply_delta(ASK, 103, 0)  # delete a level behind the best
    assert book.depth(BID) == [(99, 3)]
    assert book.depth(ASK) == [(102, 9)]
    assert book.update_id == 0  # single deltas never move the update id


def test_deleting_an_absent_level_is_a_no_op(book):
    book.apply_snapshot([(100, 1)], [(102, 1)], update_id=3)
    book.apply_delta(BID, 50, 0)
    book.apply_delta(ASK, 100, 0)  # a bid price, but on the ask side: absent there
    assert book.depth(BID) == [(100, 1)] and book.depth(ASK) == [(102, 1)]


@pytest.mark.parametrize(("price", "qty"), [(100, -1), (100.0, 1), (100, 1.5), ("100", 1), (100, False)])
def test_bad_delta_is_refused_and_changes_nothing(book, price, qty):
    book.apply_snapshot([(100, 4)], [(102, 1)])
    with pytest.raises(ValueError):
        book.apply_delta(BID, price, qty)
    assert book.depth(BID) == [(100, 4)]


def test_deltas_batch_moves_the_update_id(book):
    book.apply_snapshot([(100, 1)], [(102, 1)], update_id=10)
    book.apply_deltas([(BID, 101, 2), (ASK, 102, 0), (ASK, 103, 5)], update_id=11, prev_update_id=10)
    assert book.update_id == 11
    assert book.best_bid() == (101, 2) and book.best_ask() == (103, 5)
    book.apply_deltas([(BID, 101, 0)], update_id=20)  # no prev given: no gap check
    assert book.update_id == 20 and book.best_bid() == (100, 1)


def test_sequence_gap_is_detected_and_the_book_is_untouched(book):
    book.apply_snapshot([(100, 1)], [(102, 1)], update_id=10)
    with pytest.raises(SequenceGapError) as err:
        book.apply_deltas([(BID, 101, 2)], update_id=13, prev_update_id=12)
    assert err.value.book_update_id == 10 and err.value.prev_update_id == 12 and err.value.update_id == 13
    assert "gap" in str(err.value)
    assert book.update_id == 10
    assert book.depth(BID) == [(100, 1)]


def test_mid_and_spread_are_exact(book):
    book.apply_snapshot([(6183763, 1)], [(6183764, 1)])
    assert book.mid_x2() == 12367527
    assert book.mid() == Decimal("6183763.5")
    assert book.spread() == 1
    book.apply_delta(ASK, 6183765, 1)
    book.apply_delta(ASK, 6183764, 0)
    assert book.mid() == Decimal("6183764")
    # Beyond float precision: the mid of two 19-digit mantissas stays exact.
    big = 2**62 + 1
    book.apply_snapshot([(big, 1)], [(big + 2, 1)])
    assert book.mid_x2() == 2 * big + 2
    assert book.mid() == Decimal(big + 1)
    assert book.spread() == 2


def test_crossed_and_locked_books_are_detected(book):
    book.apply_snapshot([(100, 1)], [(101, 1)])
    assert not book.is_crossed()
    book.apply_delta(BID, 101, 1)  # locked: bid == ask
    assert book.is_crossed()
    assert book.spread() == 0
    book.apply_delta(BID, 102, 1)  # crossed
    assert book.is_crossed() and book.spread() == -1
    book.apply_delta(BID, 102, 0)
    book.apply_delta(BID, 101, 0)
    assert not book.is_crossed()


def test_one_sided_book_is_not_crossed(book):
    book.apply_snapshot([(100, 1)], [])
    assert not book.is_crossed()
    assert book.mid() is None and book.spread() is None
    assert book.best_bid() == (100, 1) and book.best_ask() is None


def test_clear_empties_the_book_and_resets_the_update_id(book):
    book.apply_snapshot([(100, 1)], [(101, 1)], update_id=99)
    book.clear()
    assert book.best_bid() is None and book.best_ask() is None and book.update_id == 0


def test_negative_and_huge_prices_are_ordinary_ints(book):
    # Calendar spreads can trade below zero; int64-sized mantissas must not lose precision.
    book.apply_snapshot([(-5, 1), (-3, 2)], [(2**63 - 1, 1), (-1, 4)])
    assert book.best_bid() == (-3, 2)
    assert book.best_ask() == (-1, 4)
    assert book.depth(ASK) == [(-1, 4), (2**63 - 1, 1)]


def test_qty_at_and_level_count(book):
    book.apply_snapshot([(100, 1), (99, 2)], [(101, 3)])
    assert book.qty_at(BID, 99) == 2 and book.qty_at(ASK, 101) == 3 and book.qty_at(ASK, 99) == 0
    assert book.level_count(BID) == 2 and book.level_count(ASK) == 1


def test_a_long_random_walk_matches_a_plain_dict_model(book_class):
    """Thousands of inserts/updates/deletes clustered at the top, as real books see them."""
    import random

    rng = random.Random(20240808)
    book = book_class()
    model = {BID: {}, ASK: {}}
    mid = 10_000
    for i in range(4000):
        mid += rng.choice((-1, 0, 1))
        side = rng.choice((BID, ASK))
        offset = int(abs(rng.gauss(0, 8))) + 1
        price = mid - offset if side == BID else mid + offset
        qty = 0 if rng.random() < 0.4 else rng.randint(1, 1000)
        book.apply_delta(side, price, qty)
        if qty:
            model[side][price] = qty
        else:
            model[side].pop(price, None)
        if i % 97 == 0:
            book.check_invariants()
    book.check_invariants()
    assert book.depth(BID) == sorted(model[BID].items(), reverse=True)
    assert book.depth(ASK) == sorted(model[ASK].items())


# -- the invariant check itself must be able to fail -------------------------------------------------
def test_check_invariants_catches_a_corrupt_reference_book():
    book = ReferenceL2Book()
    book.apply_snapshot([(100, 1)], [(101, 1)])
    book._bids[99] = 0  # an empty level must never be stored
    with pytest.raises(BookInvariantError, match="qty 0"):
        book.check_invariants()


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda b: b._bid_keys.reverse(),  # ordering lost
        lambda b: b._ask_keys.pop(),  # a level without a key
        lambda b: b._asks.__setitem__(101, -2),  # negative quantity
        lambda b: b._bids.__setitem__(100, 1.0),  # a float sneaked in
        lambda b: setattr(b, "update_id", -1),
    ],
)
def test_check_invariants_catches_a_corrupt_fast_book(corrupt):
    book = FastL2Book()
    book.apply_snapshot([(100, 1), (99, 1)], [(101, 1), (102, 1)])
    book.check_invariants()
    corrupt(book)
    with pytest.raises(BookInvariantError):
        book.check_invariants()


def test_every_write_runs_the_invariant_check(book):
    book.apply_snapshot([(100, 1)], [(101, 1)])
    book.apply_delta(BID, 99, 1)
    with pytest.raises(ValueError):
        book.apply_delta(BID, 98, -1)  # a refused write is checked too
    book.apply_deltas([(ASK, 102, 3)], update_id=4)
    book.clear()
    assert book.checks == 5
