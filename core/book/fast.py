"""The fast L2 book: a dict per side for quantities plus a sorted key list kept with bisect.

Keys are stored ascending with the best level at the END of the list (bids keyed by price, asks by
-price), because real updates cluster near the top of the book and list inserts/deletes near the
end move the fewest pointers. Best bid/ask is O(1), depth(n) is O(n), a write is O(log n) plus a
short memmove when it adds or removes a level.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, insort
from collections.abc import Iterable

from core.book.interface import (
    BookInvariantError,
    BookSide,
    L2Book,
    Level,
    LevelUpdate,
    SequenceGapError,
    snapshot_side,
    validate_level,
)


class FastL2Book(L2Book):
    __slots__ = ("_ask_keys", "_asks", "_bid_keys", "_bids")

    def __init__(self, instrument_id: int = 0) -> None:
        super().__init__(instrument_id)
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._bid_keys: list[int] = []  # prices ascending: best bid last
        self._ask_keys: list[int] = []  # -prices ascending: best ask last

    def clear(self) -> None:
        self._bids = {}
        self._asks = {}
        self._bid_keys = []
        self._ask_keys = []
        self.update_id = 0

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level], update_id: int = 0) -> None:
        new_bids = snapshot_side(bids, "bid")
        new_asks = snapshot_side(asks, "ask")
        self._bids, self._asks = new_bids, new_asks
        self._bid_keys = sorted(new_bids)
        self._ask_keys = sorted(-p for p in new_asks)
        self.update_id = update_id

    def apply_delta(self, side: BookSide, price: int, qty: int) -> None:
        if type(price) is not int or type(qty) is not int or qty < 0:
            validate_level(price, qty)  # raises the descriptive error
        if side == BookSide.BID:
            levels, keys, key = self._bids, self._bid_keys, price
        else:
            levels, keys, key = self._asks, self._ask_keys, -price
        if qty:
            if price not in levels:
                if not keys or key > keys[-1]:
                    keys.append(key)  # new best level: the common case at the top of the book
                else:
                    insort(keys, key)
            levels[price] = qty
        elif levels.pop(price, None) is not None:
            if keys[-1] == key:
                keys.pop()
            else:
                del keys[bisect_left(keys, key)]

    def apply_deltas(
        self, levels: Iterable[LevelUpdate], update_id: int | None = None, prev_update_id: int | None = None
    ) -> None:
        if prev_update_id is not None and prev_update_id != self.update_id:
            raise SequenceGapError(self.instrument_id, self.update_id, prev_update_id, update_id)
        # apply_delta inlined and split by side: this loop is the market-data hot path.
        bids, asks, bid_keys, ask_keys = self._bids, self._asks, self._bid_keys, self._ask_keys
        bid_side = BookSide.BID
        for side, price, qty in levels:
            if type(price) is not int or type(qty) is not int or qty < 0:
                validate_level(price, qty)
            if side == bid_side:
                if qty:
                    if price not in bids:
                        if not bid_keys or price > bid_keys[-1]:
                            bid_keys.append(price)
                        else:
                            insort(bid_keys, price)
                    bids[price] = qty
                elif bids.pop(price, None) is not None:
                    if bid_keys[-1] == price:
                        bid_keys.pop()
                    else:
                        del bid_keys[bisect_left(bid_keys, price)]
            elif qty:
                if price not in asks:
                    key = -price
                    if not ask_keys or key > ask_keys[-1]:
                        ask_keys.append(key)
                    else:
                        insort(ask_keys, key)
                asks[price] = qty
            elif asks.pop(price, None) is not None:
                key = -price
                if ask_keys[-1] == key:
                    ask_keys.pop()
                else:
                    del ask_keys[bisect_left(ask_keys, key)]
        if update_id is not None:
            self.update_id = update_id

    def best_bid(self) -> Level | None:
        keys = self._bid_keys
        if not keys:
            return None
        price = keys[-1]
        return price, self._bids[price]

    def best_ask(self) -> Level | None:
        keys = self._ask_keys
        if not keys:
            return None
        price = -keys[-1]
        return price, self._asks[price]

    def depth(self, side: BookSide, n: int | None = None) -> list[Level]:
        if side == BookSide.BID:
            keys, levels, sign = self._bid_keys, self._bids, 1
        else:
            keys, levels, sign = self._ask_keys, self._asks, -1
        if n is None or n >= len(keys):
            top = keys[::-1]
        elif n <= 0:
            return []
        else:
            top = keys[: -n - 1 : -1]
        if sign == 1:
            return [(p, levels[p]) for p in top]
        return [(-k, levels[-k]) for k in top]

    def qty_at(self, side: BookSide, price: int) -> int:
        return (self._bids if side == BookSide.BID else self._asks).get(price, 0)

    def level_count(self, side: BookSide) -> int:
        return len(self._bids if side == BookSide.BID else self._asks)

    def mid_x2(self) -> int | None:
        if not self._bid_keys or not self._ask_keys:
            return None
        return self._bid_keys[-1] - self._ask_keys[-1]

    def check_invariants(self) -> None:
        for name, levels, keys, sign in (
            ("bid", self._bids, self._bid_keys, 1),
            ("ask", self._asks, self._ask_keys, -1),
        ):
            if len(keys) != len(levels):
                raise BookInvariantError(f"{name}: {len(keys)} keys for {len(levels)} levels")
            if not all(a < b for a, b in itertools.pairwise(keys)):
                raise BookInvariantError(f"{name} keys are not strictly ascending")
            for key in keys:
                price = sign * key
                if price not in levels:
                    raise BookInvariantError(f"{name} key for price {price} has no level")
            for price, qty in levels.items():
                if type(price) is not int or type(qty) is not int:
                    raise BookInvariantError(f"{name} level {price!r}: {qty!r} is not an int pair")
                if qty <= 0:
                    raise BookInvariantError(f"{name} level {price} holds qty {qty}")
        if type(self.update_id) is not int or self.update_id < 0:
            raise BookInvariantError(f"update_id {self.update_id!r} is not a non-negative int")
