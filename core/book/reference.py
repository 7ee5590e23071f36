"""The reference L2 book: one dict per side, sorted on read.

Deliberately simple, so it can serve as the oracle the fast book is tested against. Reads cost
O(n) (best) or O(n log n) (depth); writes are O(1).
"""

from __future__ import annotations

from collections.abc import Iterable

from core.book.interface import BookInvariantError, BookSide, L2Book, Level, snapshot_side, validate_level


class ReferenceL2Book(L2Book):
    __slots__ = ("_asks", "_bids")

    def __init__(self, instrument_id: int = 0) -> None:
        super().__init__(instrument_id)
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}

    def clear(self) -> None:
        self._bids = {}
        self._asks = {}
        self.update_id = 0

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level], update_id: int = 0) -> None:
        new_bids = snapshot_side(bids, "bid")
        new_asks = snapshot_side(asks, "ask")
        self._bids, self._asks = new_bids, new_asks
        self.update_id = update_id

    def apply_delta(self, side: BookSide, price: int, qty: int) -> None:
        validate_level(price, qty)
        levels = self._bids if side == BookSide.BID else self._asks
        if qty:
            levels[price] = qty
        else:
            levels.pop(price, None)

    def best_bid(self) -> Level | None:
        if not self._bids:
            return None
        price = max(self._bids)
        return price, self._bids[price]

    def best_ask(self) -> Level | None:
        if not self._asks:
            return None
        price = min(self._asks)
        return price, self._asks[price]

    def depth(self, side: BookSide, n: int | None = None) -> list[Level]:
        if side == BookSide.BID:
            ordered = sorted(self._bids.items(), reverse=True)
        else:
            ordered = sorted(self._asks.items())
        return ordered if n is None else ordered[: max(n, 0)]

    def qty_at(self, side: BookSide, price: int) -> int:
        return (self._bids if side == BookSide.BID else self._asks).get(price, 0)

    def level_count(self, side: BookSide) -> int:
        return len(self._bids if side == BookSide.BID else self._asks)

    def check_invariants(self) -> None:
        for name, levels in (("bid", self._bids), ("ask", self._asks)):
            for price, qty in levels.items():
                if type(price) is not int or type(qty) is not int:
                    raise BookInvariantError(f"{name} level {price!r}: {qty!r} is not an int pair")
                if qty <= 0:
                    raise BookInvariantError(f"{name} level {price} holds qty {qty}")
        if type(self.update_id) is not int or self.update_id < 0:
            raise BookInvariantError(f"update_id {self.update_id!r} is not a non-negative int")
