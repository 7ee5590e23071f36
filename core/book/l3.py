"""Order-by-order (L3) limit order book, as fed by LOBSTER/ITCH-style messages.

Every resting order is known by id, side, price and remaining size; aggregated price levels (best
first, total size, order count) are derived from them at any time. Prices and sizes are exact ints
(mantissas), never floats.

Feeds that start mid-day or cover only a price window reference orders the book never saw. Such
messages are accepted and counted, never fatal. A level may also hold *unattributed* size: the
combined remaining size of orders the book never saw individually, learned once from the venue's
own aggregated book (see `seed`). It sits at the front of the level's queue (those orders are older
than anything the book saw arrive there) and is what executions and cancels of unknown orders at that
price consume. A level's total is always its unattributed size plus the sizes of its known orders.

Sides are core.book's `BookSide`. Single writer: one thread owns a book. `check_invariants()` is the
internal-consistency check tests run after every operation.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import NamedTuple

from core.book.interface import BookInvariantError, BookSide

__all__ = ["BookInvariantError", "BookSide", "L3Book", "L3Stats", "LevelView", "OrderView", "TradingStatus"]


class TradingStatus(IntEnum):
    TRADING = 0
    HALTED = 1  # no quoting, no trading
    QUOTING = 2  # quoting resumed, trading not yet (LOBSTER type 7 with price 0)


class LevelView(NamedTuple):
    """One aggregated price level."""

    price: int
    size: int  # total resting size (unattributed + known orders)
    count: int  # known orders at the level (the unattributed part is at least one more order)
    unattributed: int  # size of orders the book never saw individually


class OrderView(NamedTuple):
    order_id: int
    side: BookSide
    price: int
    size: int


@dataclass
class L3Stats:
    """What the book has been asked to do, and how much of it referred to orders it never saw."""

    adds: int = 0
    cancels: int = 0  # partial cancels (LOBSTER type 2)
    deletes: int = 0  # full deletions (type 3)
    executions: int = 0  # visible executions (type 4)
    hidden_executions: int = 0  # executions against hidden orders (type 5): no book change
    executed_size: int = 0  # visible executed size
    hidden_executed_size: int = 0
    unknown_cancels: int = 0
    unknown_deletes: int = 0
    unknown_executions: int = 0
    unknown_size_from_unattributed: int = 0  # unknown-order size taken from a level's unattributed part
    unknown_size_unmatched: int = 0  # unknown-order size with no unattributed size left to take it from
    duplicate_adds: int = 0  # add of an id already resting: ignored
    price_conflicts: int = 0  # message price differs from the known order's price (book keeps its own)
    side_conflicts: int = 0
    oversize: int = 0  # cancel/execution larger than the remaining size: clamped to it
    delete_size_conflicts: int = 0  # delete whose stated size differs from the remaining size
    executions_while_not_trading: int = 0
    halts: int = 0
    seeded_levels: int = 0
    seeded_size: int = 0
    truncated_orders: int = 0  # known orders dropped by `truncate`
    truncated_levels: int = 0

    @property
    def unknown_orders(self) -> int:
        return self.unknown_cancels + self.unknown_deletes + self.unknown_executions

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class _Order:
    __slots__ = ("level", "order_id", "price", "side", "size")

    def __init__(self, order_id: int, side: BookSide, price: int, size: int, level: _Level) -> None:
        self.order_id = order_id
        self.side = side
        self.price = price
        self.size = size
        self.level = level


class _Level:
    # orders: insertion-ordered dict = FIFO queue with O(1) removal by id.
    __slots__ = ("orders", "price", "side", "total", "unattributed")

    def __init__(self, side: BookSide, price: int) -> None:
        self.side = side
        self.price = price
        self.total = 0
        self.unattributed = 0
        self.orders: dict[int, _Order] = {}


class L3Book:
    """Order-by-order book for one instrument.

    Mutators take the feed's own view of an order (side, price) so that messages about orders the
    book never saw can still be attributed to a level's unattributed size. Sizes must be positive.
    """

    def __init__(self, allow_crossed: bool = False, track_changes: bool = False) -> None:
        self.allow_crossed = allow_crossed
        self.status = TradingStatus.TRADING
        self.stats = L3Stats()
        self._orders: dict[int, _Order] = {}
        self._levels: dict[BookSide, dict[int, _Level]] = {BookSide.BID: {}, BookSide.ASK: {}}
        # Ascending price lists; the best bid is the last element, the best ask the first.
        self._prices: dict[BookSide, list[int]] = {BookSide.BID: [], BookSide.ASK: []}
        self._unattributed_levels: dict[BookSide, int] = {BookSide.BID: 0, BookSide.ASK: 0}
        self._track = track_changes
        self._changed: dict[tuple[BookSide, int], None] = {}

    # -- feed operations ----------------------------------------------------------------------------
    def add(self, order_id: int, side: BookSide, price: int, size: int) -> bool:
        """A new resting order joins the back of its level. False (and counted) for a duplicate id."""
        if size <= 0:
            raise ValueError(f"add {order_id}: size must be positive, got {size}")
        self.stats.adds += 1
        if order_id in self._orders:
            self.stats.duplicate_adds += 1
            return False
        level = self._levels[side].get(price)
        if level is None:
            level = self._new_level(side, price)
        order = _Order(order_id, side, price, size, level)
        level.orders[order_id] = order
        level.total += size
        self._orders[order_id] = order
        if self._track:
            self._changed[(side, price)] = None
        return True

    def cancel(self, order_id: int, size: int, side: BookSide | None = None, price: int | None = None) -> int:
        """Partial cancel: the order loses `size` (removed when nothing is left). Returns size removed."""
        if size <= 0:
            raise ValueError(f"cancel {order_id}: size must be positive, got {size}")
        self.stats.cancels += 1
        order = self._orders.get(order_id)
        if order is None:
            self.stats.unknown_cancels += 1
            return self._unknown(side, price, size)
        return self._reduce(order, size, side, price)

    def delete(
        self, order_id: int, side: BookSide | None = None, price: int | None = None, size: int | None = None
    ) -> int:
        """Full deletion. For an unknown order, `size` (the feed's remaining size) is taken from the
        level's unattributed part. Returns the size removed from the book."""
        self.stats.deletes += 1
        order = self._orders.get(order_id)
        if order is None:
            self.stats.unknown_deletes += 1
            return self._unknown(side, price, size or 0)
        self._check_conflicts(order, side, price)
        if size is not None and size != order.size:
            self.stats.delete_size_conflicts += 1
        removed = order.size
        self._remove(order)
        return removed

    def execute(
        self, order_id: int, size: int, side: BookSide | None = None, price: int | None = None
    ) -> int:
        """Visible execution against a resting order. Returns the size taken off the book."""
        if size <= 0:
            raise ValueError(f"execute {order_id}: size must be positive, got {size}")
        stats = self.stats
        stats.executions += 1
        stats.executed_size += size
        if self.status is not TradingStatus.TRADING:
            stats.executions_while_not_trading += 1
        order = self._orders.get(order_id)
        if order is None:
            stats.unknown_executions += 1
            return self._unknown(side, price, size)
        return self._reduce(order, size, side, price)

    def execute_hidden(self, size: int) -> None:
        """Execution against a hidden order: a trade, but nothing visible leaves the book."""
        self.stats.hidden_executions += 1
        self.stats.hidden_executed_size += size
        if self.status is not TradingStatus.TRADING:
            self.stats.executions_while_not_trading += 1

    def halt(self) -> None:
        self.stats.halts += 1
        self.status = TradingStatus.HALTED

    def resume_quoting(self) -> None:
        self.status = TradingStatus.QUOTING

    def resume_trading(self) -> None:
        self.status = TradingStatus.TRADING

    # -- knowledge from outside the message stream -------------------------------------------------
    def seed(self, side: BookSide, price: int, size: int) -> None:
        """Add `size` of unattributed resting size at a level: orders the book never saw, whose combined
        size it learned from the venue's aggregated book."""
        if size <= 0:
            raise ValueError(f"seed {side.name} {price}: size must be positive, got {size}")
        level = self._levels[side].get(price)
        if level is None:
            level = self._new_level(side, price)
        if level.unattributed == 0:
            self._unattributed_levels[side] += 1
        level.unattributed += size
        level.total += size
        self.stats.seeded_levels += 1
        self.stats.seeded_size += size
        if self._track:
            self._changed[(side, price)] = None

    def truncate(self, side: BookSide, depth: int) -> int:
        """Forget every level beyond the best `depth` on a side (the feed stopped reporting there).
        Returns the number of known orders dropped."""
        prices = self._prices[side]
        if len(prices) <= depth:
            return 0
        if side == BookSide.BID:
            gone, self._prices[side] = prices[: len(prices) - depth], prices[len(prices) - depth :]
        else:
            gone, self._prices[side] = prices[depth:], prices[:depth]
        dropped = 0
        levels = self._levels[side]
        for p in gone:
            level = levels.pop(p)
            if level.unattributed:
                self._unattributed_levels[side] -= 1
            for oid in level.orders:
                del self._orders[oid]
            dropped += len(level.orders)
            if self._track:
                self._changed[(side, p)] = None
        self.stats.truncated_orders += dropped
        self.stats.truncated_levels += len(gone)
        return dropped

    # -- queries ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        """Known resting orders."""
        return len(self._orders)

    def __contains__(self, order_id: int) -> bool:
        return order_id in self._orders

    def order(self, order_id: int) -> OrderView | None:
        o = self._orders.get(order_id)
        return None if o is None else OrderView(o.order_id, o.side, o.price, o.size)

    def depth(self, side: BookSide) -> int:
        """Number of occupied price levels on a side."""
        return len(self._prices[side])

    def level_size(self, side: BookSide, price: int) -> int:
        level = self._levels[side].get(price)
        return 0 if level is None else level.total

    def level(self, side: BookSide, price: int) -> LevelView | None:
        lv = self._levels[side].get(price)
        return None if lv is None else LevelView(lv.price, lv.total, len(lv.orders), lv.unattributed)

    def prices(self, side: BookSide, depth: int | None = None) -> list[int]:
        """Occupied prices, best first."""
        prices = self._prices[side]
        if side == BookSide.BID:
            n = len(prices) if depth is None else min(depth, len(prices))
            return prices[len(prices) - n :][::-1]
        return prices[:depth] if depth is not None else list(prices)

    def levels(self, side: BookSide, depth: int | None = None) -> list[LevelView]:
        """Aggregated levels, best first."""
        levels = self._levels[side]
        out = []
        for p in self.prices(side, depth):
            lv = levels[p]
            out.append(LevelView(p, lv.total, len(lv.orders), lv.unattributed))
        return out

    def top(self, side: BookSide, depth: int) -> list[tuple[int, int, int]]:
        """(price, size, unattributed size) of the best `depth` levels, best first: the cheap form for
        per-message comparisons."""
        levels = self._levels[side]
        out = []
        for p in self.prices(side, depth):
            lv = levels[p]
            out.append((p, lv.total, lv.unattributed))
        return out

    def sizes(self, side: BookSide, prices: list[int]) -> list[int]:
        """Total size at each of `prices` (which must be occupied levels of `side`)."""
        levels = self._levels[side]
        return [levels[p].total for p in prices]

    def unattributed_level_count(self, side: BookSide) -> int:
        """Levels on a side still holding size of orders the book never saw."""
        return self._unattributed_levels[side]

    def nth_price(self, side: BookSide, n: int) -> int | None:
        """Price of the n-th best level (1-based), or None when the side has fewer levels."""
        prices = self._prices[side]
        if n > len(prices):
            return None
        return prices[-n] if side == BookSide.BID else prices[n - 1]

    def best(self, side: BookSide) -> tuple[int, int] | None:
        prices = self._prices[side]
        if not prices:
            return None
        p = prices[-1] if side == BookSide.BID else prices[0]
        return p, self._levels[side][p].total

    def orders_at(self, side: BookSide, price: int) -> list[OrderView]:
        """Known orders at a level in queue (time) priority."""
        level = self._levels[side].get(price)
        if level is None:
            return []
        return [OrderView(o.order_id, o.side, o.price, o.size) for o in level.orders.values()]

    def queue_ahead(self, order_id: int) -> int:
        """Size resting ahead of an order at its level (unattributed size counts as ahead)."""
        order = self._orders[order_id]
        ahead = order.level.unattributed
        for oid, o in order.level.orders.items():
            if oid == order_id:
                return ahead
            ahead += o.size
        raise BookInvariantError(f"order {order_id} missing from its level")  # pragma: no cover

    def drain_changes(self) -> list[tuple[BookSide, int]]:
        """(side, price) of every level touched since the last call (needs track_changes=True)."""
        out = list(self._changed)
        self._changed.clear()
        return out

    # -- consistency ------------------------------------------------------------------------------
    def check_invariants(self) -> None:
        """Raise BookInvariantError unless every level total is its unattributed size plus its orders'
        sizes, no level is empty, price lists and level maps agree, the order index holds exactly the
        orders in the levels, and (unless allowed) the book is not crossed."""
        seen = 0
        for side in (BookSide.BID, BookSide.ASK):
            levels = self._levels[side]
            prices = self._prices[side]
            if prices != sorted(set(prices)):
                raise BookInvariantError(f"{side.name} price list not strictly ascending: {prices}")
            if set(prices) != set(levels):
                raise BookInvariantError(f"{side.name} price list and level map differ")
            holding = sum(1 for lv in levels.values() if lv.unattributed)
            if holding != self._unattributed_levels[side]:
                raise BookInvariantError(
                    f"{side.name}: {holding} levels hold unattributed size, counter says "
                    f"{self._unattributed_levels[side]}"
                )
            for p, lv in levels.items():
                if lv.price != p or lv.side != side:
                    raise BookInvariantError(f"{side.name} level {p} is keyed under the wrong price or side")
                if lv.unattributed < 0:
                    raise BookInvariantError(f"{side.name} {p}: negative unattributed size {lv.unattributed}")
                total = lv.unattributed
                for oid, o in lv.orders.items():
                    if o.size <= 0:
                        raise BookInvariantError(f"order {oid} has non-positive size {o.size}")
                    if o.order_id != oid or o.price != p or o.side != side or o.level is not lv:
                        raise BookInvariantError(f"order {oid} is filed under the wrong level")
                    if self._orders.get(oid) is not o:
                        raise BookInvariantError(f"order {oid} is in a level but not in the index")
                    total += o.size
                seen += len(lv.orders)
                if total != lv.total:
                    raise BookInvariantError(f"{side.name} {p}: level total {lv.total} != sum {total}")
                if lv.total <= 0:
                    raise BookInvariantError(f"{side.name} {p}: empty level kept")
        if seen != len(self._orders):
            raise BookInvariantError(f"index holds {len(self._orders)} orders, levels hold {seen}")
        if not self.allow_crossed:
            bid, ask = self.best(BookSide.BID), self.best(BookSide.ASK)
            if bid is not None and ask is not None and bid[0] >= ask[0]:
                raise BookInvariantError(f"crossed book: best bid {bid[0]} >= best ask {ask[0]}")

    # -- internals ----------------------------------------------------------------------------------
    def _new_level(self, side: BookSide, price: int) -> _Level:
        level = _Level(side, price)
        self._levels[side][price] = level
        insort(self._prices[side], price)
        return level

    def _drop_level(self, level: _Level) -> None:
        side, price = level.side, level.price
        del self._levels[side][price]
        prices = self._prices[side]
        del prices[bisect_left(prices, price)]

    def _check_conflicts(self, order: _Order, side: BookSide | None, price: int | None) -> None:
        if price is not None and price != order.price:
            self.stats.price_conflicts += 1
        if side is not None and side != order.side:
            self.stats.side_conflicts += 1

    def _reduce(self, order: _Order, size: int, side: BookSide | None, price: int | None) -> int:
        self._check_conflicts(order, side, price)
        if size >= order.size:
            if size > order.size:
                self.stats.oversize += 1
            removed = order.size
            self._remove(order)
            return removed
        order.size -= size
        order.level.total -= size
        if self._track:
            self._changed[(order.side, order.price)] = None
        return size

    def _remove(self, order: _Order) -> None:
        level = order.level
        del level.orders[order.order_id]
        del self._orders[order.order_id]
        level.total -= order.size
        if level.total == 0:
            self._drop_level(level)
        if self._track:
            self._changed[(order.side, order.price)] = None

    def _unknown(self, side: BookSide | None, price: int | None, size: int) -> int:
        """An order the book never saw: take its size from the level's unattributed part, if any."""
        taken = 0
        if side is not None and price is not None:
            level = self._levels[side].get(price)
            if level is not None and level.unattributed:
                taken = min(size, level.unattributed)
                level.unattributed -= taken
                level.total -= taken
                if level.unattributed == 0:
                    self._unattributed_levels[side] -= 1
                if level.total == 0:
                    self._drop_level(level)
                if self._track:
                    self._changed[(side, price)] = None
        self.stats.unknown_size_from_unattributed += taken
        self.stats.unknown_size_unmatched += size - taken
        return taken
