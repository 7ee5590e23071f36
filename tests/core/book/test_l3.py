"""Unit tests of the order-by-order book: every operation, unknown orders, seeding, halts, invariants."""

from __future__ import annotations

import pytest

from core.book.interface import BookInvariantError, BookSide
from core.book.l3 import L3Book, LevelView, OrderView, TradingStatus

BID, ASK = BookSide.BID, BookSide.ASK


_MUTATORS = (
    "add",
    "cancel",
    "delete",
    "execute",
    "execute_hidden",
    "halt",
    "resume_quoting",
    "resume_trading",
    "seed",
    "truncate",
)


def _checked(name: str):
    def method(self, *args, **kwargs):
        result = getattr(L3Book, name)(self, *args, **kwargs)
        self.check_invariants()
        return result

    return method


# An L3Book that runs the internal-consistency check after every mutation.
CheckedBook = type("CheckedBook", (L3Book,), {name: _checked(name) for name in _MUTATORS})


@pytest.fixture
def book() -> L3Book:
    return CheckedBook()


def test_add_builds_levels_best_first(book: L3Book) -> None:
    book.add(1, BID, 1000, 100)
    book.add(2, BID, 1010, 50)
    book.add(3, BID, 1000, 25)
    book.add(4, ASK, 1030, 10)
    book.add(5, ASK, 1020, 70)
    assert book.levels(BID) == [LevelView(1010, 50, 1, 0), LevelView(1000, 125, 2, 0)]
    assert book.levels(ASK) == [LevelView(1020, 70, 1, 0), LevelView(1030, 10, 1, 0)]
    assert book.best(BID) == (1010, 50)
    assert book.best(ASK) == (1020, 70)
    assert book.prices(BID, 1) == [1010]
    assert book.top(ASK, 5) == [(1020, 70, 0), (1030, 10, 0)]
    assert book.order(3) == OrderView(3, BID, 1000, 25)
    assert [o.order_id for o in book.orders_at(BID, 1000)] == [1, 3]  # time priority
    assert book.queue_ahead(3) == 100
    assert len(book) == 5 and 3 in book and 99 not in book
    assert book.depth(BID) == 2 and book.nth_price(BID, 2) == 1000 and book.nth_price(BID, 3) is None


def test_duplicate_add_is_counted_and_ignored(book: L3Book) -> None:
    assert book.add(1, BID, 1000, 100)
    assert not book.add(1, ASK, 1100, 5)
    assert book.stats.duplicate_adds == 1
    assert book.levels(ASK) == [] and book.level_size(BID, 1000) == 100


def test_partial_cancel_then_cancel_to_zero_removes_order_and_level(book: L3Book) -> None:
    book.add(1, BID, 1000, 100)
    book.add(2, BID, 990, 10)
    assert book.cancel(1, 40, BID, 1000) == 40
    assert book.order(1) == OrderView(1, BID, 1000, 60)
    assert book.level_size(BID, 1000) == 60
    assert book.cancel(1, 60, BID, 1000) == 60
    assert book.order(1) is None
    assert book.prices(BID) == [990]
    assert book.stats.cancels == 2 and book.stats.oversize == 0


def test_oversized_cancel_is_clamped_and_counted(book: L3Book) -> None:
    book.add(1, ASK, 1000, 10)
    assert book.cancel(1, 15) == 10
    assert book.depth(ASK) == 0
    assert book.stats.oversize == 1


def test_delete_removes_whole_order_and_notes_size_conflicts(book: L3Book) -> None:
    book.add(1, ASK, 1000, 10)
    book.add(2, ASK, 1000, 20)
    assert book.delete(1, ASK, 1000, 10) == 10
    assert book.levels(ASK) == [LevelView(1000, 20, 1, 0)]
    assert book.delete(2, ASK, 1000, 5) == 20  # the book's own remaining size wins
    assert book.stats.delete_size_conflicts == 1
    assert book.depth(ASK) == 0


def test_visible_execution_partial_and_full(book: L3Book) -> None:
    book.add(1, ASK, 1000, 10)
    book.add(2, ASK, 1000, 5)
    assert book.execute(1, 4, ASK, 1000) == 4
    assert book.level(ASK, 1000) == LevelView(1000, 11, 2, 0)
    assert book.execute(1, 6, ASK, 1000) == 6
    assert book.orders_at(ASK, 1000) == [OrderView(2, ASK, 1000, 5)]
    assert book.stats.executions == 2 and book.stats.executed_size == 10


def test_hidden_execution_changes_nothing_visible(book: L3Book) -> None:
    book.add(1, BID, 1000, 10)
    before = book.levels(BID)
    book.execute_hidden(300)
    assert book.levels(BID) == before
    assert book.stats.hidden_executions == 1 and book.stats.hidden_executed_size == 300


def test_price_and_side_conflicts_are_counted(book: L3Book) -> None:
    book.add(1, BID, 1000, 10)
    book.execute(1, 1, BID, 1001)
    book.cancel(1, 1, ASK, 1000)
    assert book.stats.price_conflicts == 1 and book.stats.side_conflicts == 1
    assert book.level_size(BID, 1000) == 8


def test_unknown_orders_are_accepted_and_counted(book: L3Book) -> None:
    book.add(1, BID, 1000, 10)
    assert book.execute(77, 5, BID, 1000) == 0  # no unattributed size to take it from
    assert book.cancel(78, 3, BID, 1000) == 0
    assert book.delete(79, BID, 1000, 4) == 0
    assert book.delete(80) == 0  # no side, price or size at all
    s = book.stats
    assert (s.unknown_executions, s.unknown_cancels, s.unknown_deletes) == (1, 1, 2)
    assert s.unknown_orders == 4
    assert s.unknown_size_unmatched == 12 and s.unknown_size_from_unattributed == 0
    assert book.levels(BID) == [LevelView(1000, 10, 1, 0)]


def test_seeded_size_sits_ahead_and_absorbs_unknown_orders(book: L3Book) -> None:
    book.seed(ASK, 1000, 300)
    book.add(5, ASK, 1000, 50)
    assert book.level(ASK, 1000) == LevelView(1000, 350, 1, 300)
    assert book.queue_ahead(5) == 300
    assert book.unattributed_level_count(ASK) == 1
    assert book.execute(90, 100, ASK, 1000) == 100  # an order the book never saw
    assert book.delete(91, ASK, 1000, 150) == 150
    assert book.level(ASK, 1000) == LevelView(1000, 100, 1, 50)
    assert book.cancel(92, 80, ASK, 1000) == 50  # only 50 unattributed left: 30 unmatched
    assert book.unattributed_level_count(ASK) == 0
    assert book.level(ASK, 1000) == LevelView(1000, 50, 1, 0)
    assert book.stats.unknown_size_from_unattributed == 300
    assert book.stats.unknown_size_unmatched == 30
    assert book.stats.seeded_levels == 1 and book.stats.seeded_size == 300


def test_level_of_only_seeded_size_goes_when_drained(book: L3Book) -> None:
    book.seed(BID, 990, 20)
    book.execute(1, 20, BID, 990)
    assert book.depth(BID) == 0 and book.unattributed_level_count(BID) == 0


def test_truncate_forgets_levels_beyond_depth(book: L3Book) -> None:
    for i, price in enumerate((1000, 990, 980, 970)):
        book.add(i + 1, BID, price, 10 + i)
    book.seed(BID, 970, 5)
    book.add(10, ASK, 1010, 1)
    assert book.truncate(BID, 2) == 2
    assert book.prices(BID) == [1000, 990]
    assert 3 not in book and 4 not in book
    assert book.unattributed_level_count(BID) == 0
    assert book.truncate(ASK, 2) == 0
    assert book.stats.truncated_levels == 2 and book.stats.truncated_orders == 2


def test_halt_quoting_resume(book: L3Book) -> None:
    book.add(1, BID, 1000, 10)
    book.halt()
    assert book.status is TradingStatus.HALTED
    book.execute(1, 1, BID, 1000)  # the feed is the truth: applied, but counted as odd
    book.resume_quoting()
    assert book.status is TradingStatus.QUOTING
    book.add(2, BID, 1000, 5)  # quotes are accepted while quoting
    book.execute_hidden(1)
    book.resume_trading()
    assert book.status is TradingStatus.TRADING
    book.execute(2, 1, BID, 1000)
    assert book.stats.halts == 1 and book.stats.executions_while_not_trading == 2
    assert book.level_size(BID, 1000) == 13


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.add(1, BID, 1000, 0),
        lambda b: b.cancel(1, 0),
        lambda b: b.execute(1, -5),
        lambda b: b.seed(BID, 1000, 0),
    ],
)
def test_non_positive_sizes_are_refused(book: L3Book, call) -> None:
    with pytest.raises(ValueError, match="positive"):
        call(book)


def test_changes_are_tracked_per_level() -> None:
    book = L3Book(track_changes=True)
    book.add(1, BID, 1000, 10)
    book.add(2, BID, 1000, 10)
    book.add(3, ASK, 1010, 10)
    assert book.drain_changes() == [(BID, 1000), (ASK, 1010)]
    assert book.drain_changes() == []
    book.execute(3, 10)
    book.seed(ASK, 1020, 5)
    book.execute_hidden(3)
    assert book.drain_changes() == [(ASK, 1010), (ASK, 1020)]


def test_crossed_book_fails_the_check_unless_allowed() -> None:
    book = L3Book()
    book.add(1, BID, 1000, 10)
    book.add(2, ASK, 1000, 10)  # locked counts as crossed: one venue's book can be neither
    with pytest.raises(BookInvariantError, match="crossed"):
        book.check_invariants()
    allowed = L3Book(allow_crossed=True)
    allowed.add(1, BID, 1000, 10)
    allowed.add(2, ASK, 990, 10)
    allowed.check_invariants()


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda b: setattr(b._levels[BID][1000], "total", 999), "level total"),
        (lambda b: b._orders.pop(1), "not in the index"),
        (lambda b: b._prices[BID].append(5), "price list"),
        (lambda b: setattr(b._orders[1], "size", 0), "non-positive size"),
        (lambda b: b._unattributed_levels.__setitem__(BID, 3), "unattributed"),
    ],
)
def test_invariant_check_catches_corruption(corrupt, message: str) -> None:
    book = L3Book()
    book.add(1, BID, 1000, 10)
    book.add(2, BID, 1000, 5)
    book.check_invariants()
    corrupt(book)
    with pytest.raises(BookInvariantError, match=message):
        book.check_invariants()
