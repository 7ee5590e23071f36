"""The strategy API: what a strategy author writes.

    from dataclasses import dataclass
    from decimal import Decimal
    from core.codec.messages import Side
    from core.instruments import Instrument
    from core.strategy import Strategy

    class Dipper(Strategy):
        @dataclass(frozen=True)
        class Params:                       # read strictly from [strategies.NAME.params]
            instrument: Instrument
            size: Decimal

        def on_start(self) -> None:
            self.iid = self.params.instrument.id
            self.qty = self.params.instrument.qty_mantissa(self.params.size)
            self.ctx.set_timer(1_000_000_000, "check", repeat=True)

        def on_book(self, market) -> None:
            bid = market.book.best_bid()
            if market.usable() and not self.ctx.orders(self.iid):
                self.ctx.submit(self.iid, Side.Buy, self.qty, bid[0] - 10, tag="dip")

        def on_order_update(self, order, report) -> None:
            if order.is_done and order.cum_qty:
                ...

Callbacks (all optional; the host calls them on its one thread, never concurrently):
- on_start(): once, before any other callback; may submit orders and set timers.
- on_book(market): the book of one of the strategy's instruments changed (or became unusable:
  check `market.usable()`); `market.book` is the core/book L2Book.
- on_trade(trade): a decoded SBE Trade of one of its instruments (price, qty, aggressorSide, ...).
- on_order_update(order, report): an ExecutionReport for one of its orders; `order` (OwnOrder) is
  already updated; `report` is the decoded SBE ExecutionReport (execType, lastQty, lastPx, reason ...).
- on_position(position): the oms reported the strategy's position in an instrument (Position).
- on_timer(tag, now_ns): a timer set with ctx.set_timer fired.
- on_stop(): once, when the host stops (working orders are cancelled after it unless configured not to).

Everything else goes through `self.ctx` (StrategyContext, core/strategy/context.py): submit, cancel,
replace, orders, positions, markets, instruments, the clock and timers. Prices and quantities are int
mantissas at the instrument's exponents (Instrument.price_mantissa / qty_mantissa convert exactly).
Time comes only from ctx.now() (the injected clock), so a strategy behaves the same in a backtest and
live. An exception raised in a callback is counted and reported; by default the strategy is then
disabled and its orders cancelled; it never takes the host down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from core.strategy.context import StrategyContext
    from core.strategy.market import Market
    from core.strategy.orders import OwnOrder
    from core.strategy.positions import Position


class Strategy:
    """Base class of every strategy. Subclasses set `Params` (a dataclass) when they take parameters."""

    Params: ClassVar[type | None] = None

    def __init__(self, ctx: StrategyContext, params: Any) -> None:
        self.ctx = ctx
        self.params = params

    def on_start(self) -> None:
        pass

    def on_book(self, market: Market) -> None:
        pass

    def on_trade(self, trade: Any) -> None:
        pass

    def on_order_update(self, order: OwnOrder, report: Any) -> None:
        pass

    def on_position(self, position: Position) -> None:
        pass

    def on_timer(self, tag: str, now_ns: int) -> None:
        pass

    def on_stop(self) -> None:
        pass
