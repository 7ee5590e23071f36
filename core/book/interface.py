"""The L2 (price-level) order book interface shared by every consumer.

One book holds the aggregated resting quantity per price on each side of one instrument. Prices and
quantities are int mantissas at the instrument's exponents (see core/instruments.py); nothing here
ever uses floats.

Two implementations sit behind this interface and pass the same test suite:
- `ReferenceL2Book` (core/book/reference.py): a dict per side, sorted on read. Obviously correct.
- `FastL2Book` (core/book/fast.py): a dict per side plus a sorted key list kept with bisect.

Conventions
- Levels are `(price, qty)` tuples, best first: bids high to low, asks low to high.
- A delta carries the *new absolute* quantity of a level; qty 0 deletes it. Deleting a level the
  book does not hold is a no-op (venues send such deletes routinely).
- `update_id` is the venue's update id (sequence number) of the last applied snapshot or delta
  batch, 0 before any. `apply_deltas(..., prev_update_id=P)` refuses with `SequenceGapError`, and
  leaves the book untouched, unless the book is exactly at P: that is the sequence-gap detection.
- Mid price: `mid_x2()` is bid + ask, an exact int (twice the mid, in price-mantissa units);
  `mid()` is the exact half of it as a Decimal in price-mantissa units (it has at most one
  fractional digit, .5). Neither ever rounds.
- Crossed: `is_crossed()` is true when best bid >= best ask (a locked book counts as crossed: one
  venue's own book can be neither). It is market-data state, not an internal error, so
  `check_invariants()` does not reject it.
- Single writer: one thread owns a book; readers on other threads need their own copy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from decimal import Decimal
from enum import IntEnum

Level = tuple[int, int]  # (price mantissa, qty mantissa)


class BookSide(IntEnum):
    """Side of a price level. Values match the BookSide enum of the SBE schema."""

    BID = 1
    ASK = 2


LevelUpdate = tuple[BookSide, int, int]  # (side, price mantissa, new absolute qty mantissa; 0 deletes)


class SequenceGapError(Exception):
    """A delta batch does not follow the book's update id: updates were lost. The book is unchanged."""

    def __init__(self, instrument_id: int, book_update_id: int, prev_update_id: int, update_id: int | None):
        self.instrument_id = instrument_id
        self.book_update_id = book_update_id
        self.prev_update_id = prev_update_id
        self.update_id = update_id
        super().__init__(
            f"instrument {instrument_id}: sequence gap: book is at update {book_update_id}, "
            f"batch follows update {prev_update_id} (ends at {update_id})"
        )


class BookInvariantError(AssertionError):
    """The book's internal state is inconsistent: always a bug in the book, never a feed problem."""


class L2Book(ABC):
    """An L2 price-level book of one instrument (see the module docstring for conventions)."""

    __slots__ = ("instrument_id", "update_id")

    def __init__(self, instrument_id: int = 0) -> None:
        self.instrument_id = instrument_id
        self.update_id = 0

    # -- writes ---------------------------------------------------------------------------------
    @abstractmethod
    def clear(self) -> None:
        """Remove every level and reset update_id to 0."""

    @abstractmethod
    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level], update_id: int = 0) -> None:
        """Replace the whole book. Levels may come in any order; qty 0 levels are skipped.

        Raises ValueError (book unchanged) on a negative qty, a non-int value or a price given twice
        on one side.
        """

    @abstractmethod
    def apply_delta(self, side: BookSide, price: int, qty: int) -> None:
        """Set one level's absolute quantity; qty 0 deletes it. Does not touch update_id.

        Raises ValueError (book unchanged) on a negative qty or a non-int value.
        """

    def apply_deltas(
        self, levels: Iterable[LevelUpdate], update_id: int | None = None, prev_update_id: int | None = None
    ) -> None:
        """Apply a batch of level updates, then set update_id (when given).

        With prev_update_id, raise SequenceGapError (book unchanged) unless the book is at exactly
        that update id. A ValueError on a bad level leaves the levels before it applied.
        """
        if prev_update_id is not None and prev_update_id != self.update_id:
            raise SequenceGapError(self.instrument_id, self.update_id, prev_update_id, update_id)
        apply = self.apply_delta
        for side, price, qty in levels:
            apply(side, price, qty)
        if update_id is not None:
            self.update_id = update_id

    # -- reads ----------------------------------------------------------------------------------
    @abstractmethod
    def best_bid(self) -> Level | None:
        """Highest bid as (price, qty), None when the bid side is empty."""

    @abstractmethod
    def best_ask(self) -> Level | None:
        """Lowest ask as (price, qty), None when the ask side is empty."""

    @abstractmethod
    def depth(self, side: BookSide, n: int | None = None) -> list[Level]:
        """The best n levels of a side (all when n is None), best first."""

    @abstractmethod
    def qty_at(self, side: BookSide, price: int) -> int:
        """Quantity resting at a price, 0 when there is no level."""

    @abstractmethod
    def level_count(self, side: BookSide) -> int:
        """Number of price levels on a side."""

    @abstractmethod
    def check_invariants(self) -> None:
        """Raise BookInvariantError if the internal state is inconsistent (tests run it after every
        operation): sides ordered, no duplicate or empty levels, every value an int."""

    # -- derived reads (exact) ------------------------------------------------------------------
    def mid_x2(self) -> int | None:
        """best bid + best ask: twice the mid, exact; None unless both sides have a level."""
        bid = self.best_bid()
        ask = self.best_ask()
        if bid is None or ask is None:
            return None
        return bid[0] + ask[0]

    def mid(self) -> Decimal | None:
        """The exact mid in price-mantissa units (e.g. Decimal('6183763.5')); None if a side is empty."""
        x2 = self.mid_x2()
        if x2 is None:
            return None
        # Built from a string so no Decimal context precision can round it.
        return Decimal(f"{x2 * 5}e-1")

    def spread(self) -> int | None:
        """best ask - best bid in price-mantissa units (<= 0 when crossed); None if a side is empty."""
        bid = self.best_bid()
        ask = self.best_ask()
        if bid is None or ask is None:
            return None
        return ask[0] - bid[0]

    def is_crossed(self) -> bool:
        """True when both sides have levels and best bid >= best ask."""
        bid = self.best_bid()
        ask = self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(instrument={self.instrument_id}, update_id={self.update_id}, "
            f"bid={self.best_bid()}, ask={self.best_ask()}, "
            f"levels={self.level_count(BookSide.BID)}/{self.level_count(BookSide.ASK)})"
        )


def validate_level(price: object, qty: object) -> None:
    """Shared input check: exact ints (bool is not a number here) and a non-negative quantity."""
    if type(price) is not int or type(qty) is not int:
        raise ValueError(f"price and qty must be int mantissas, got {price!r}, {qty!r}")
    if qty < 0:
        raise ValueError(f"negative quantity {qty} at price {price}")


def snapshot_side(levels: Iterable[Level], name: str) -> dict[int, int]:
    """Validate one side of a snapshot into {price: qty}, skipping qty 0; ValueError on a repeated price."""
    out: dict[int, int] = {}
    seen: set[int] = set()
    for price, qty in levels:
        validate_level(price, qty)
        if price in seen:
            raise ValueError(f"snapshot gives {name} price {price} twice")
        seen.add(price)
        if qty:
            out[price] = qty
    return out
