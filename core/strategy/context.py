"""StrategyContext: everything a strategy calls. One per strategy, owned by its StrategyHost.

Requests (submit, cancel, replace) are validated at once (an OrderError in the strategy's callback,
nothing sent, for a float price, an off-tick price, an off-lot quantity, an instrument the strategy
does not trade ...), given the next clOrdId of the strategy (core/strategy/ids.py) and the host's next
correlationId, encoded as SBE NewOrder / CancelOrder / ReplaceOrder and handed to the host's outputs
immediately. triggerTs is the publishTs of the market-data message being dispatched when the request
was made (0 from timers and order updates): the oms and latency tooling measure tick-to-order from it.
"""

from __future__ import annotations

import logging
from enum import IntEnum
from typing import TYPE_CHECKING

from core.book import L2Book
from core.codec.messages import OperatorIdentity, OrdStatus, OrdType, Side, TimeInForce
from core.instruments import Instrument
from core.strategy.ids import ClOrdIdSource
from core.strategy.market import Market
from core.strategy.orders import CANCEL_WANTED, OrderError, OwnOrder, OwnOrders
from core.strategy.positions import Position

if TYPE_CHECKING:
    from core.strategy.api import Strategy
    from core.strategy.config import StrategySpec
    from core.strategy.host import StrategyHost

POST_ONLY, REDUCE_ONLY = 1, 2  # OrderFlags bits
_SIDES = (Side.Buy, Side.Sell)
_TIFS = (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.Day)


class StrategyState(IntEnum):
    CREATED = 0
    RUNNING = 1
    DISABLED = 2  # failed: no more callbacks; its orders were cancelled
    STOPPED = 3


class StrategyContext:
    def __init__(
        self,
        host: StrategyHost,
        spec: StrategySpec,
        ids: ClOrdIdSource,
        operator: OperatorIdentity,
    ) -> None:
        self._host = host
        self.spec = spec
        self.strategy_id = spec.strategy_id
        self.name = spec.name
        self.instruments: tuple[Instrument, ...] = spec.instruments
        self._instrument_ids = frozenset(i.id for i in spec.instruments)
        self._ids = ids
        self._operator = operator
        self.orders_book = OwnOrders()
        self._positions: dict[int, Position] = {}
        self.state = StrategyState.CREATED
        self.strategy: Strategy | None = None
        self.timers: set[int] = set()
        self.counters: dict[str, int] = {
            "callbacks": 0,
            "errors": 0,
            "orders": 0,
            "cancels": 0,
            "replaces": 0,
            "fills": 0,
            "rejects": 0,
            "order_errors": 0,
        }
        self.last_error = ""
        self.heartbeat_seq = 0
        self.log = logging.getLogger(f"aerodesk.strategy.{spec.name}")

    # -- time and static data ----------------------------------------------------------------------
    def now(self) -> int:
        """The injected clock's time, ns since the epoch (simulated in a backtest)."""
        return self._host.clock.time_ns()

    def instrument(self, instrument_id: int) -> Instrument:
        return self._host.catalog.by_id(instrument_id)

    def market(self, instrument_id: int) -> Market:
        """The book and feed state of one of the strategy's instruments."""
        try:
            return self._host.markets[instrument_id]
        except KeyError:
            raise KeyError(f"strategy {self.name!r} has no market for instrument {instrument_id}") from None

    def book(self, instrument_id: int) -> L2Book:
        return self.market(instrument_id).book

    # -- own state -----------------------------------------------------------------------------------
    def position(self, instrument_id: int) -> Position:
        """The position the oms last reported (net 0 and `updates == 0` before any report)."""
        p = self._positions.get(instrument_id)
        if p is None:
            p = self._positions[instrument_id] = Position(instrument_id)
        return p

    def positions(self) -> dict[int, Position]:
        return dict(self._positions)

    def orders(self, instrument_id: int = 0) -> list[OwnOrder]:
        """Working orders (not finished), oldest first; of one instrument when given."""
        return self.orders_book.working_orders(instrument_id)

    def order(self, cl_ord_id: int) -> OwnOrder | None:
        """An order by any clOrdId sent for it (its new, cancel or replace request)."""
        return self.orders_book.get(cl_ord_id)

    # -- requests ----------------------------------------------------------------------------------
    def submit(
        self,
        instrument_id: int,
        side: Side,
        qty: int,
        price: int | None = None,
        *,
        tif: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        reduce_only: bool = False,
        tag: str = "",
    ) -> OwnOrder:
        """Send a new order: limit when `price` is given, market otherwise. Returns the tracked order."""
        self._check_active()
        inst = self._own_instrument(instrument_id)
        if side not in _SIDES:
            raise OrderError(f"side must be Side.Buy or Side.Sell, got {side!r}")
        if tif not in _TIFS:
            raise OrderError(f"unknown time in force {tif!r}")
        _check_qty(inst, qty)
        if price is None:
            ord_type = OrdType.Market
            if post_only:
                raise OrderError("a market order cannot be post-only")
        else:
            ord_type = OrdType.Limit
            _check_price(inst, price)
            if post_only and tif in (TimeInForce.IOC, TimeInForce.FOK):
                raise OrderError("post-only needs a resting order (GTC or Day)")
        flags = (POST_ONLY if post_only else 0) | (REDUCE_ONLY if reduce_only else 0)
        host = self._host
        now = host.clock.time_ns()
        trigger = host.trigger_ts
        cl = self._ids.next()
        order = OwnOrder(cl, inst.id, side, ord_type, tif, flags, price, qty, now, tag, trigger)
        self.orders_book.add(order)
        self.counters["orders"] += 1
        host.emit_request(
            self,
            host.encoder.new_order(
                host.next_correlation_id(),
                host.client_id,
                self.strategy_id,
                cl,
                inst.id,
                host.venue_id(inst),
                side,
                ord_type,
                tif,
                flags,
                price,
                qty,
                now,
                trigger,
                self._operator,
            ),
        )
        return order

    def cancel(self, order: OwnOrder | int) -> bool:
        """Ask to cancel a working order. False when there is nothing to send: finished, a cancel already
        in flight. With a replace in flight the cancel is sent once the replace is answered."""
        self._check_active(allow_disabled=True)
        o = self._resolve(order)
        if not o.is_cancelable:
            return False
        if o.replace_pending is not None:
            o.cancel_cl_ord_id = CANCEL_WANTED  # sent by the host once the replace is answered
            return True
        self._send_cancel(o)
        return True

    def cancel_all(self, instrument_id: int = 0) -> int:
        """Cancel every working order (of one instrument when given); returns how many were asked."""
        return sum(1 for o in self.orders(instrument_id) if self.cancel(o))

    def replace(self, order: OwnOrder | int, *, price: int | None = None, qty: int | None = None) -> bool:
        """Change a working limit order's price and/or total quantity (filled part included). False when
        it cannot be sent now (not acknowledged yet, a request in flight, finished) or changes nothing."""
        self._check_active()
        o = self._resolve(order)
        if o.status not in (OrdStatus.New, OrdStatus.PartiallyFilled) or o.is_pending:
            return False
        inst = self._host.catalog.by_id(o.instrument_id)
        new_price = o.price if price is None else price
        new_qty = o.qty if qty is None else qty
        if o.ord_type == OrdType.Limit:
            if new_price is None:
                raise OrderError("a limit order needs a price")
            _check_price(inst, new_price)
        elif price is not None:
            raise OrderError("a market order carries no price")
        _check_qty(inst, new_qty)
        if new_qty <= o.cum_qty:
            raise OrderError(f"new quantity {new_qty} must be above the filled {o.cum_qty}")
        if new_price == o.price and new_qty == o.qty:
            return False
        host = self._host
        cl = self._ids.next()
        o.replace_pending = (cl, new_price, new_qty)
        self.orders_book.alias(cl, o)
        self.counters["replaces"] += 1
        host.emit_request(
            self,
            host.encoder.replace_order(
                host.next_correlation_id(),
                host.client_id,
                self.strategy_id,
                cl,
                o.cl_ord_id,
                o.order_id,
                o.instrument_id,
                host.venue_id(inst),
                new_price,
                new_qty,
                host.clock.time_ns(),
                self._operator,
            ),
        )
        return True

    # -- timers ------------------------------------------------------------------------------------
    def set_timer(self, delay_ns: int, tag: str = "", *, repeat: bool = False) -> int:
        """Call on_timer(tag, now) after delay_ns (and every delay_ns after that with repeat)."""
        if type(delay_ns) is not int or delay_ns < 0 or (repeat and delay_ns == 0):
            raise ValueError(
                f"timer delay must be a non-negative int of ns (positive to repeat), got {delay_ns!r}"
            )
        self._check_active()
        tid = self._host.timers.schedule(self, self.now() + delay_ns, tag, delay_ns if repeat else 0)
        self.timers.add(tid)
        return tid

    def set_timer_at(self, deadline_ns: int, tag: str = "") -> int:
        self._check_active()
        tid = self._host.timers.schedule(self, deadline_ns, tag, 0)
        self.timers.add(tid)
        return tid

    def cancel_timer(self, timer_id: int) -> bool:
        if timer_id not in self.timers:
            return False
        self.timers.discard(timer_id)
        return self._host.timers.cancel(timer_id)

    # -- internals (host side) -----------------------------------------------------------------------
    def _send_cancel(self, o: OwnOrder) -> None:
        host = self._host
        cl = self._ids.next()
        o.cancel_cl_ord_id = cl
        self.orders_book.alias(cl, o)
        self.counters["cancels"] += 1
        inst = host.catalog.by_id(o.instrument_id)
        host.emit_request(
            self,
            host.encoder.cancel_order(
                host.next_correlation_id(),
                host.client_id,
                self.strategy_id,
                cl,
                o.cl_ord_id,
                o.order_id,
                o.instrument_id,
                host.venue_id(inst),
                host.clock.time_ns(),
                self._operator,
            ),
        )

    def _resolve(self, order: OwnOrder | int) -> OwnOrder:
        if isinstance(order, OwnOrder):
            return order
        o = self.orders_book.get(order)
        if o is None:
            raise OrderError(f"strategy {self.name!r} has no order with clOrdId {order}")
        return o

    def _own_instrument(self, instrument_id: int) -> Instrument:
        if instrument_id not in self._instrument_ids:
            names = ", ".join(i.symbol for i in self.instruments) or "none"
            raise OrderError(
                f"instrument {instrument_id} is not one of strategy {self.name!r}'s instruments ({names})"
            )
        return self._host.catalog.by_id(instrument_id)

    def _check_active(self, allow_disabled: bool = False) -> None:
        if self.state == StrategyState.RUNNING or (allow_disabled and self.state == StrategyState.DISABLED):
            return
        raise OrderError(f"strategy {self.name!r} is {self.state.name.lower()}: no requests")

    @property
    def running(self) -> bool:
        return self.state == StrategyState.RUNNING

    def __repr__(self) -> str:
        return f"StrategyContext({self.name!r}, id={self.strategy_id}, {self.state.name})"


def _check_qty(inst: Instrument, qty: int) -> None:
    if type(qty) is not int:
        raise OrderError(f"quantity must be an int mantissa, got {type(qty).__name__} {qty!r}")
    if qty <= 0:
        raise OrderError(f"quantity must be positive, got {qty}")
    if qty % inst.lot_size:
        raise OrderError(f"{inst.symbol}: quantity {qty} is not a multiple of the lot size {inst.lot_size}")
    if not inst.min_qty <= qty <= inst.max_qty:
        raise OrderError(f"{inst.symbol}: quantity {qty} outside {inst.min_qty}..{inst.max_qty}")


def _check_price(inst: Instrument, price: int) -> None:
    if type(price) is not int:
        raise OrderError(f"price must be an int mantissa, got {type(price).__name__} {price!r}")
    if price <= 0:
        raise OrderError(f"price must be positive, got {price}")
    if price % inst.tick_size:
        raise OrderError(f"{inst.symbol}: price {price} is not a multiple of the tick size {inst.tick_size}")
