"""TickProbe: the strategy of the tick-to-order benchmark (core/bench/latency.py).

On a book change of its instrument it sends one small IOC limit order `offset_ticks` behind the touch
(a buy below the best bid, a sell above the best ask, alternately), so the sim venue expires it at
once: no fills, no position, no working orders pile up, yet every order takes the whole real path
md -> strategy host -> oms (risk checks, WAL) -> exec, and its triggerTs is the publishTs of the
market data that caused it. At most one order per `min_interval_ms` keeps the rate under the oms's
order-rate throttle of the profile's risk file.

    [strategies.probe]
    id = 90
    class = "core.bench.probe:TickProbe"
    [strategies.probe.params]
    instrument = "BTC-USD"
    qty = "0.001"         # optional: the instrument's minimum quantity by default
    offset_ticks = 10
    min_interval_ms = 5
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.codec.messages import Side, TimeInForce
from core.instruments import Instrument
from core.strategy.api import Strategy
from core.strategy.market import Market

MS = 1_000_000


class TickProbe(Strategy):
    @dataclass(frozen=True)
    class Params:
        instrument: Instrument
        qty: Decimal | None = None  # instrument units; default: the instrument's minimum quantity
        offset_ticks: int = 10  # how far behind the touch: the IOC never trades
        min_interval_ms: int = 5  # at most one order per this interval

        def __post_init__(self) -> None:
            if self.offset_ticks <= 0:
                raise ValueError("offset_ticks must be positive: the probe must never trade")
            if self.min_interval_ms < 0:
                raise ValueError("min_interval_ms must not be negative")

    def on_start(self) -> None:
        inst = self.params.instrument
        self.iid = inst.id
        if self.params.qty is None:  # the smallest quantity the instrument takes, on the lot
            self.qty = -(-inst.min_qty // inst.lot_size) * inst.lot_size
        else:
            self.qty = inst.qty_mantissa(self.params.qty)
        self.offset = self.params.offset_ticks * inst.tick_size
        self.interval_ns = self.params.min_interval_ms * MS
        self.next_ns = 0
        self.buy = True

    def on_book(self, market: Market) -> None:
        if market.instrument_id != self.iid or not market.usable():
            return
        now = self.ctx.now()
        if now < self.next_ns:
            return
        if self.buy:
            bid = market.book.best_bid()
            assert bid is not None  # usable() says both sides are there
            side, price = Side.Buy, bid[0] - self.offset
        else:
            ask = market.book.best_ask()
            assert ask is not None
            side, price = Side.Sell, ask[0] + self.offset
        if price <= 0:
            return
        self.ctx.submit(self.iid, side, self.qty, price, tif=TimeInForce.IOC, tag="probe")
        self.buy = not self.buy
        self.next_ns = now + self.interval_ns
