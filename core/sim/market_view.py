"""The simulated venue's view of the real market book, and what simulated orders did to it.

The displayed book comes from the market-data feed (L2 snapshots and deltas). Simulated orders that
take liquidity *consume* displayed size: consumed size is subtracted from the level until the feed
next updates that level (a delta touching it, or a snapshot); the feed's number is then the truth
again, because the real market never saw the simulated trade. Market trades at a price are remembered
as a *trade credit* until the depth update that reflects them, so the queue model does not count the
same size twice (once as a trade, once as a size decrease).

Side.Buy is the bid side, Side.Sell the ask side.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from core.book import BookSide, FastL2Book, L2Book, Level
from core.codec.messages import Side

_BOOK_SIDE = {1: BookSide.BID, 2: BookSide.ASK}  # Side.Buy / Side.Sell (and BookSide itself) -> BookSide


class MarketView:
    """Wraps an L2Book (core/book). Side.Buy/Side.Sell have the values of BookSide.BID/ASK (1, 2), so
    either enum (or the bare ints) may be passed as a side."""

    __slots__ = ("_consumed", "_credit", "book")

    def __init__(self, book: L2Book | None = None) -> None:
        self.book = book if book is not None else FastL2Book()
        self._consumed: dict[int, dict[int, int]] = {Side.Buy: {}, Side.Sell: {}}
        self._credit: dict[int, dict[int, int]] = {Side.Buy: {}, Side.Sell: {}}

    # -- feed ----------------------------------------------------------------------------------
    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level], update_id: int = 0) -> None:
        """Replace the book; all consumption and trade credit end. ValueError leaves it unchanged."""
        self.book.apply_snapshot(bids, asks, update_id)
        for d in (*self._consumed.values(), *self._credit.values()):
            d.clear()

    def set_level(self, side: Side, price: int, qty: int) -> None:
        """A delta: the level's displayed size is now `qty` (0 deletes it); consumption there ends and
        so does its trade credit (read it first with `take_credit` when it matters)."""
        self.book.apply_delta(_BOOK_SIDE[side], price, qty)
        self._consumed[side].pop(price, None)
        self._credit[side].pop(price, None)

    # -- simulated activity ----------------------------------------------------------------------
    def consume(self, side: Side, price: int, qty: int) -> None:
        consumed = self._consumed[side]
        consumed[price] = consumed.get(price, 0) + qty

    def add_trade_credit(self, side: Side, price: int, qty: int) -> None:
        credit = self._credit[side]
        credit[price] = credit.get(price, 0) + qty

    def take_credit(self, side: Side, price: int) -> int:
        return self._credit[side].pop(price, 0)

    # -- questions -------------------------------------------------------------------------------
    def displayed(self, side: Side, price: int) -> int:
        return self.book.qty_at(_BOOK_SIDE[side], price)

    def effective(self, side: Side, price: int) -> int:
        """Displayed size not yet consumed by simulated orders."""
        shown = self.book.qty_at(_BOOK_SIDE[side], price)
        if not shown:
            return 0
        eaten = self._consumed[side].get(price, 0)
        return shown - eaten if shown > eaten else 0

    def levels(self, side: Side) -> Iterator[tuple[int, int]]:
        """(price, effective size) best first, skipping fully consumed levels. Sizes are read lazily,
        so consuming the level just yielded is safe; feed updates while iterating are not."""
        consumed = self._consumed[side]
        depth = self.book.depth
        book_side = _BOOK_SIDE[side]
        start, n = 0, 8
        while True:
            chunk = depth(book_side, n)
            for i in range(start, len(chunk)):
                price, qty = chunk[i]
                eff = qty - consumed.get(price, 0) if consumed else qty
                if eff > 0:
                    yield price, eff
            if len(chunk) < n:
                return
            start, n = n, n * 4

    def best(self, side: Side) -> tuple[int, int] | None:
        top = self.book.best_bid() if side == Side.Buy else self.book.best_ask()
        if top is None:
            return None
        consumed = self._consumed[side]
        if not consumed or top[0] not in consumed:
            return top
        return next(self.levels(side), None)

    def depth(self, side: Side, n: int) -> list[tuple[int, int]]:
        out = []
        for level in self.levels(side):
            if len(out) == n:
                break
            out.append(level)
        return out
