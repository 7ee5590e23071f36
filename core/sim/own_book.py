"""The simulated orders resting at the venue, in price-time priority: a fast and a reference book.

Both keep the same contract, so the matching engine runs on either and one test suite (plus a
differential property test) covers both:

- `add(order)` puts the order at the back of its price level (time priority = arrival at the level);
- `remove(order)` takes it out wherever it is;
- `best(side)`, `prices(side)` (best first), `level(side, price)` (time order, a copy the caller may
  hold while the book changes), `first(side, price)`.

The fast book keeps, per side, a dict of price -> insertion-ordered dict of orders and a sorted price
list (bisect). The reference book is a plain list per side, scanned and sorted on every question:
slow, and obviously right.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Protocol

from core.codec.messages import Side
from core.sim.orders import SimOrder


class OwnBook(Protocol):
    def add(self, order: SimOrder) -> None: ...
    def remove(self, order: SimOrder) -> None: ...
    def best(self, side: Side) -> int | None: ...
    def prices(self, side: Side) -> list[int]: ...
    def level(self, side: Side, price: int) -> list[SimOrder]: ...
    def first(self, side: Side, price: int) -> SimOrder | None: ...
    def has_level(self, side: Side, price: int) -> bool: ...
    def orders(self) -> list[SimOrder]: ...
    def __len__(self) -> int: ...


class FastOwnBook:
    __slots__ = ("_levels", "_n", "_prices")

    def __init__(self) -> None:
        # side -> price -> {venue_order_id: order} (dicts keep insertion order = time priority)
        self._levels: dict[Side, dict[int, dict[int, SimOrder]]] = {Side.Buy: {}, Side.Sell: {}}
        self._prices: dict[Side, list[int]] = {Side.Buy: [], Side.Sell: []}  # ascending
        self._n = 0

    def add(self, order: SimOrder) -> None:
        levels = self._levels[order.side]
        level = levels.get(order.price)  # type: ignore[arg-type]
        if level is None:
            level = levels[order.price] = {}  # type: ignore[index]
            insort(self._prices[order.side], order.price)  # type: ignore[arg-type]
        level[order.venue_order_id] = order
        self._n += 1

    def remove(self, order: SimOrder) -> None:
        levels = self._levels[order.side]
        level = levels[order.price]  # type: ignore[index]
        del level[order.venue_order_id]
        self._n -= 1
        if not level:
            del levels[order.price]  # type: ignore[arg-type]
            prices = self._prices[order.side]
            del prices[bisect_left(prices, order.price)]  # type: ignore[arg-type]

    def best(self, side: Side) -> int | None:
        prices = self._prices[side]
        if not prices:
            return None
        return prices[-1] if side == Side.Buy else prices[0]

    def prices(self, side: Side) -> list[int]:
        prices = self._prices[side]
        return prices[::-1] if side == Side.Buy else list(prices)

    def level(self, side: Side, price: int) -> list[SimOrder]:
        level = self._levels[side].get(price)
        return list(level.values()) if level else []

    def first(self, side: Side, price: int) -> SimOrder | None:
        level = self._levels[side].get(price)
        return next(iter(level.values())) if level else None

    def has_level(self, side: Side, price: int) -> bool:
        return price in self._levels[side]

    def orders(self) -> list[SimOrder]:
        return [o for side in (Side.Buy, Side.Sell) for p in self.prices(side) for o in self.level(side, p)]

    def __len__(self) -> int:
        return self._n


class ReferenceOwnBook:
    """One list per side in arrival order; every question is answered by scanning it."""

    __slots__ = ("_orders",)

    def __init__(self) -> None:
        self._orders: dict[Side, list[SimOrder]] = {Side.Buy: [], Side.Sell: []}

    def add(self, order: SimOrder) -> None:
        self._orders[order.side].append(order)

    def remove(self, order: SimOrder) -> None:
        orders = self._orders[order.side]
        for i, o in enumerate(orders):
            if o is order:
                del orders[i]
                return
        raise KeyError(f"order {order.venue_order_id} is not in the book")

    def best(self, side: Side) -> int | None:
        prices = [o.price for o in self._orders[side]]
        if not prices:
            return None
        return max(prices) if side == Side.Buy else min(prices)  # type: ignore[type-var]

    def prices(self, side: Side) -> list[int]:
        return sorted({o.price for o in self._orders[side]}, reverse=side == Side.Buy)  # type: ignore[misc]

    def level(self, side: Side, price: int) -> list[SimOrder]:
        return sorted((o for o in self._orders[side] if o.price == price), key=lambda o: o.seq)

    def first(self, side: Side, price: int) -> SimOrder | None:
        level = self.level(side, price)
        return level[0] if level else None

    def has_level(self, side: Side, price: int) -> bool:
        return any(o.price == price for o in self._orders[side])

    def orders(self) -> list[SimOrder]:
        return [o for side in (Side.Buy, Side.Sell) for p in self.prices(side) for o in self.level(side, p)]

    def __len__(self) -> int:
        return len(self._orders[Side.Buy]) + len(self._orders[Side.Sell])


BOOKS = {"fast": FastOwnBook, "reference": ReferenceOwnBook}
