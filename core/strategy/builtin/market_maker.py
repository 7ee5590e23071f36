"""A market maker: one bid and one ask around the mid, skewed by inventory, within its own limits.

Quotes (price mantissas, exact ints; Fraction where a half tick appears, never floats):
    reservation = mid - inventory_units * skew_ticks_per_unit * tick
    bid = reservation - width / 2, rounded down to the tick; ask = reservation + width / 2, rounded up
    width = spread_ticks * tick, or mid * spread_bps / 10_000
Flat, the quotes are symmetric about the mid. Long, both quotes move down (sell more readily, buy less
readily); short, up. A quote never crosses the opposite best (it is clamped one tick behind it), so it
stays passive.

Limits: each side's size is quote_size, cut so that a full fill keeps |inventory| <= max_position; a
side whose size falls below the instrument's minimum is not quoted. Inventory is the position the oms
reports for the strategy (PositionUpdate).

Requotes: a working quote is replaced only when its target price moved by requote_ticks or more, or
its size must change (cut by a limit, or filled down to half of it); a quote with a request in flight
is left alone until answered. So a quiet book
costs no messages. At most max_orders_per_s new orders and replaces go out per second (a requote
beyond that waits for the next book change or check), so the oms's order-rate throttle is not hit.

Pulls: both quotes are cancelled when the book is unusable (a gap, crossed or locked, a side missing)
or stale (no change for max_book_age_ms, checked every check_interval_ms). A side whose order, replace
or cancel was refused (risk check, throttle, post-only) is left alone for reject_backoff_ms: a refusal
is never answered by a new request at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from core.codec.messages import ExecType, Side, TimeInForce
from core.instruments import Instrument
from core.strategy.api import Strategy
from core.strategy.market import Market
from core.strategy.orders import OwnOrder

MS = 1_000_000
_REFUSALS = (ExecType.Rejected, ExecType.ReplaceRejected, ExecType.CancelRejected)


@dataclass(frozen=True)
class MarketMakerParams:
    instrument: Instrument
    quote_size: Decimal  # per side, in instrument units (e.g. "0.05" BTC)
    max_position: Decimal  # |inventory| limit, instrument units
    spread_ticks: int | None = None  # full width between bid and ask at zero inventory, in ticks ...
    spread_bps: Decimal | None = None  # ... or in bps of the mid (exactly one of the two)
    skew_ticks_per_unit: Decimal = Decimal(0)  # quotes move this many ticks per unit of inventory
    requote_ticks: int = 1  # replace a quote only when its target moved at least this far
    max_book_age_ms: int = 5000  # pull quotes when the book has not changed for this long
    check_interval_ms: int = 250  # how often staleness is checked
    reject_backoff_ms: int = 1000  # a rejected side waits this long before quoting again
    max_orders_per_s: int = 20  # new orders + replaces per second (keep under the oms's order_rate)
    post_only: bool = True

    def __post_init__(self) -> None:
        inst = self.instrument
        if (self.spread_ticks is None) == (self.spread_bps is None):
            raise ValueError("spread_ticks or spread_bps: give exactly one of the two")
        if self.spread_ticks is not None and self.spread_ticks <= 0:
            raise ValueError(f"spread_ticks must be positive, got {self.spread_ticks}")
        if self.spread_bps is not None and self.spread_bps <= 0:
            raise ValueError(f"spread_bps must be positive, got {self.spread_bps}")
        for name in ("quote_size", "max_position"):
            value = getattr(self, name)
            try:
                m = inst.qty_mantissa(value)
            except ValueError as e:
                raise ValueError(f"{name} {value}: {e}") from None
            if m <= 0 or m % inst.lot_size:
                raise ValueError(f"{name} must be a positive multiple of the lot size of {inst.symbol}")
        if inst.qty_mantissa(self.quote_size) < inst.min_qty:
            raise ValueError(f"quote_size is below the minimum quantity of {inst.symbol}")
        if self.skew_ticks_per_unit < 0:
            raise ValueError("skew_ticks_per_unit must not be negative")
        for name in ("requote_ticks", "max_book_age_ms", "check_interval_ms", "max_orders_per_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.reject_backoff_ms < 0:
            raise ValueError("reject_backoff_ms must not be negative")


Quote = tuple[int, int]  # (price, size) mantissas


class MarketMaker(Strategy):
    Params = MarketMakerParams
    params: MarketMakerParams

    def on_start(self) -> None:
        p = self.params
        inst = p.instrument
        self.iid = inst.id
        self.tick = inst.tick_size
        self.lot = inst.lot_size
        self.min_qty = inst.min_qty
        self.size = inst.qty_mantissa(p.quote_size)
        self.max_pos = inst.qty_mantissa(p.max_position)
        self.requote_distance = p.requote_ticks * inst.tick_size
        # Exact integer arithmetic at a common scale S (no Fractions on the hot path): skew per qty
        # mantissa of inventory = skew_num / skew_den price mantissas; width likewise.
        skew = Fraction(p.skew_ticks_per_unit) * inst.tick_size * Fraction(10) ** inst.qty_exponent
        bps = Fraction(p.spread_bps) if p.spread_bps is not None else Fraction(0)
        self.scale = scale = 2 * skew.denominator * 10_000 * bps.denominator
        self.skew_s = skew.numerator * (scale // skew.denominator)  # per qty mantissa, at scale S
        self.width_s = p.spread_ticks * inst.tick_size * scale if p.spread_ticks is not None else 0
        self.width_bps_s = bps.numerator * (scale // (2 * 10_000 * bps.denominator))  # times mid_x2
        self.tick_s2 = 2 * inst.tick_size * scale
        self.quotes: dict[Side, OwnOrder | None] = {Side.Buy: None, Side.Sell: None}
        self.sent: deque[int] = deque()  # times of the new orders and replaces of the last second
        self.backoff_until = {Side.Buy: 0, Side.Sell: 0}
        self.pulled = ""  # why quotes are pulled ("" while quoting)
        self.stats = {
            "quotes": 0,
            "requotes": 0,
            "requotes_size": 0,  # of which only for the size (limits, top-ups)
            "cancels": 0,
            "pulls": 0,
            "rejects": 0,
            "fills": 0,
            "throttled": 0,  # requotes skipped to stay within max_orders_per_s
        }
        self.ctx.set_timer(p.check_interval_ms * MS, "check", repeat=True)

    # -- callbacks ---------------------------------------------------------------------------------
    def on_book(self, market: Market) -> None:
        self.update(market)

    def on_position(self, position) -> None:
        if position.instrument_id == self.iid:
            self.update(self.ctx.market(self.iid))

    def on_timer(self, tag: str, now_ns: int) -> None:
        # staleness, and catching up on a requote the order budget held back
        self.update(self.ctx.market(self.iid))

    def on_order_update(self, order: OwnOrder, report) -> None:
        side = order.side
        if self.quotes.get(side) is not order:
            return
        et = report.execType
        if et == ExecType.Trade:
            self.stats["fills"] += 1
        if et in _REFUSALS:
            # refused (risk, throttle, post-only would take): wait before trying that side again,
            # never answer a refusal with a new request at once
            self.stats["rejects"] += 1
            self.backoff_until[side] = self.ctx.now() + self.params.reject_backoff_ms * MS
        if order.is_done:
            self.quotes[side] = None
        elif et in (ExecType.New, ExecType.Replaced) and not self.pulled:
            # a request was just answered: the quote may be behind the book
            self.update(self.ctx.market(self.iid))

    # -- quoting -----------------------------------------------------------------------------------
    def inventory(self) -> int:
        return self.ctx.position(self.iid).net_qty

    def targets(self, market: Market) -> tuple[Quote | None, Quote | None]:
        """(bid, ask) the strategy wants now, None for a side it must not quote."""
        book = market.book
        best_bid, best_ask = book.best_bid(), book.best_ask()
        assert best_bid is not None and best_ask is not None
        mid_x2 = best_bid[0] + best_ask[0]
        width = self.width_s or mid_x2 * self.width_bps_s  # full width at scale S
        inv = self.inventory()
        reservation_x2 = mid_x2 * self.scale - 2 * inv * self.skew_s  # twice the reservation, at scale S
        tick = self.tick
        d = self.tick_s2
        bid_px = ((reservation_x2 - width) // d) * tick  # floor to the tick
        ask_px = -((-(reservation_x2 + width)) // d) * tick  # ceil to the tick
        bid_px = min(bid_px, best_ask[0] - tick)  # stay passive
        ask_px = max(ask_px, best_bid[0] + tick)
        bid_size = self._cap(min(self.size, self.max_pos - inv))
        ask_size = self._cap(min(self.size, self.max_pos + inv))
        bid = (bid_px, bid_size) if bid_size and bid_px > 0 else None
        ask = (ask_px, ask_size) if ask_size else None
        return bid, ask

    def update(self, market: Market) -> None:
        if not market.usable():
            self.pull("book unusable")
            return
        if market.is_stale(self.ctx.now(), self.params.max_book_age_ms * MS):
            self.pull("stale book")
            return
        self.pulled = ""
        bid, ask = self.targets(market)
        self._work(Side.Buy, bid)
        self._work(Side.Sell, ask)

    def pull(self, why: str) -> None:
        if not self.pulled:
            self.stats["pulls"] += 1
        self.pulled = why
        for side in (Side.Buy, Side.Sell):
            order = self.quotes[side]
            if order is not None and self.ctx.cancel(order):
                self.stats["cancels"] += 1

    def _work(self, side: Side, target: Quote | None) -> None:
        order = self.quotes[side]
        if order is not None and order.is_done:
            order = self.quotes[side] = None
        if target is None:
            if order is not None and self.ctx.cancel(order):
                self.stats["cancels"] += 1
            return
        price, size = target
        now = self.ctx.now()
        if now < self.backoff_until[side]:
            return
        if order is None:
            if self._throttled(now):
                return
            self.quotes[side] = self.ctx.submit(
                self.iid,
                side,
                size,
                price,
                tif=TimeInForce.GTC,
                post_only=self.params.post_only,
                tag=side.name,
            )
            self.stats["quotes"] += 1
            return
        if order.is_pending or order.price is None:
            return  # wait for the answer to what is in flight
        # a partly filled quote is topped up only once it is down to half its size
        size_ok = size // 2 <= order.leaves_qty <= size
        price_ok = abs(order.price - price) < self.requote_distance
        if (price_ok and size_ok) or self._throttled(now):
            return
        if self.ctx.replace(order, price=price, qty=order.cum_qty + size):
            self.stats["requotes"] += 1
            self.stats["requotes_size"] += price_ok

    def _throttled(self, now: int) -> bool:
        """True when the order budget of the last second is spent; else counts one request."""
        sent = self.sent
        while sent and sent[0] <= now - 1_000 * MS:
            sent.popleft()
        if len(sent) >= self.params.max_orders_per_s:
            self.stats["throttled"] += 1
            return True
        sent.append(now)
        return False

    def _cap(self, qty: int) -> int:
        """Round a wanted size down to the lot; 0 when below the minimum quantity."""
        qty -= qty % self.lot
        return qty if qty >= self.min_qty else 0
