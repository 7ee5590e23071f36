"""Statistical-arbitrage pairs: trade the spread between two correlated instruments when it is stretched.

Model: log(price_a) = alpha + beta * log(price_b) + spread, fitted on mids sampled every
sample_interval_ms (rolling OLS over `window` samples, or a Kalman filter seeded with the OLS fit of
the warm-up). z is the current spread in
units of its standard deviation, evaluated on every book change of either leg against the latest fit.

Trading (both legs sent together, in one callback: IOC limits slippage_bps through the touch):
- no entry unless the legs move together: the rolling OLS fit's r2 >= min_r2 and 0 < beta <= max_beta;
- flat and z > entry_z: short the spread (sell A, buy B); z < -entry_z: long the spread (buy A, sell B);
- in a position and |z| < exit_z (or |z| > stop_z when set): close both legs;
- leg sizes: qty_a of A; B sized by the hedge ratio, notional_b = beta * notional_a, rounded to its lot.

Failed legs: each leg batch is judged once every leg in it has finished (or, after leg_timeout_ms,
has been cancelled). An entry whose legs did not both fill completely (an IOC remainder expired, a
reject, a timeout) is unwound: the filled part of each leg is traded back, to flat. An exit or unwind
that leaves a remainder is retried after retry_delay_ms with a wider limit (slippage x (1 + retries)),
up to max_retries times; then the strategy halts (no new entries) and says so. Positions per leg are
tracked from the strategy's own fills, so they are exact and immediate; the oms's PositionUpdates
are available through ctx.position().
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Literal

from core.codec.messages import ExecType, Side, TimeInForce
from core.instruments import Instrument
from core.strategy.api import Strategy
from core.strategy.builtin.stats import KalmanHedge, RollingOLS
from core.strategy.market import Market
from core.strategy.orders import OwnOrder

MS = 1_000_000


@dataclass(frozen=True)
class PairsParams:
    leg_a: Instrument
    leg_b: Instrument
    qty_a: Decimal  # leg A quantity per trade, instrument units; leg B follows the hedge ratio
    entry_z: float = 2.0
    exit_z: float = 0.5
    stop_z: float | None = None  # close when |z| goes beyond this: the relationship broke
    estimator: Literal["ols", "kalman"] = "ols"
    window: int = 300  # OLS: samples in the rolling window
    kalman_delta: float = 1e-9  # Kalman: state noise per step (log units)
    kalman_r: float | None = None  # Kalman: observation noise variance; None: the warm-up fit's
    sample_interval_ms: int = 1000
    min_samples: int = 60  # no trading before this many samples
    slippage_bps: Decimal = Decimal(0)  # IOC price = touch +- this many bps (widened on each retry)
    leg_timeout_ms: int = 2000
    retry_delay_ms: int = 500
    max_retries: int = 5
    cooldown_ms: int = 5000  # after an exit or an unwind, before the next entry
    max_beta: float = 5.0  # no entry while the fitted hedge ratio is outside (0, max_beta]
    min_r2: float = 0.25  # no entry while the legs' rolling OLS fit explains less than this

    def __post_init__(self) -> None:
        if self.leg_a.id == self.leg_b.id:
            raise ValueError("leg_b must differ from leg_a")
        try:
            q = self.leg_a.qty_mantissa(self.qty_a)
        except ValueError as e:
            raise ValueError(f"qty_a {self.qty_a}: {e}") from None
        if q < self.leg_a.min_qty or q % self.leg_a.lot_size:
            raise ValueError(f"qty_a must be a positive multiple of the lot size of {self.leg_a.symbol}")
        if not 0 <= self.exit_z < self.entry_z:
            raise ValueError(f"exit_z must be in [0, entry_z), got {self.exit_z} (entry_z {self.entry_z})")
        if self.stop_z is not None and self.stop_z <= self.entry_z:
            raise ValueError("stop_z must be above entry_z")
        if self.window < 3:
            raise ValueError("window must be at least 3")
        if not 0.0 < self.kalman_delta < 1.0:
            raise ValueError("kalman_delta must be in (0, 1)")
        if self.kalman_r is not None and self.kalman_r <= 0.0:
            raise ValueError("kalman_r must be positive")
        if self.min_samples < 3:
            raise ValueError("min_samples must be at least 3")
        for name in ("sample_interval_ms", "leg_timeout_ms", "retry_delay_ms"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.slippage_bps < 0:
            raise ValueError("slippage_bps must not be negative")
        for name in ("max_retries", "cooldown_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.max_beta <= 0:
            raise ValueError("max_beta must be positive")
        if not 0.0 <= self.min_r2 < 1.0:
            raise ValueError("min_r2 must be in [0, 1)")


class PairState(Enum):
    WARMING = "warming"  # not enough samples yet
    FLAT = "flat"
    ENTERING = "entering"
    IN_POSITION = "in_position"
    EXITING = "exiting"
    UNWINDING = "unwinding"
    HALTED = "halted"


class PairsTrader(Strategy):
    Params = PairsParams
    params: PairsParams

    def on_start(self) -> None:
        p = self.params
        self.a, self.b = p.leg_a, p.leg_b
        self.qty_a = p.leg_a.qty_mantissa(p.qty_a)
        self.slippage = Fraction(p.slippage_bps)
        # the rolling OLS fit is kept whatever the estimator: its r2 says whether the legs still move together
        self.fit = RollingOLS(p.window)
        self.model = self.fit if p.estimator == "ols" else KalmanHedge(p.kalman_delta, p.kalman_r or 1e-6)
        self.state = PairState.WARMING
        self.direction = 0  # +1 long the spread (long A, short B), -1 short, 0 flat
        self.held = {self.a.id: 0, self.b.id: 0}  # signed qty mantissas from own fills
        self.target = {self.a.id: 0, self.b.id: 0}
        self.legs: list[OwnOrder] = []  # the batch in flight
        self.batch = 0
        self.retries = 0
        self.cooldown_until = 0
        self.z: float | None = None
        self.halt_reason = ""
        self.last_entry: dict[str, float | int | None] = {}  # z, beta, qty_b and time of the last entry
        self.stats = {
            "samples": 0,
            "entries": 0,
            "exits": 0,
            "unwinds": 0,
            "retries": 0,
            "leg_timeouts": 0,
            "failed_legs": 0,
            "batches": 0,
        }
        self.ctx.set_timer(p.sample_interval_ms * MS, "sample", repeat=True)

    # -- signals -----------------------------------------------------------------------------------
    def _log_mids(self) -> tuple[float, float] | None:
        ma, mb = self.ctx.market(self.a.id), self.ctx.market(self.b.id)
        if not (ma.usable() and mb.usable()):
            return None
        xa, xb = ma.book.mid_x2(), mb.book.mid_x2()
        assert xa is not None and xb is not None
        return math.log(xa * 10.0**self.a.price_exponent / 2), math.log(xb * 10.0**self.b.price_exponent / 2)

    def on_timer(self, tag: str, now_ns: int) -> None:
        p = self.params
        if tag == "sample":
            mids = self._log_mids()
            if mids is not None:
                self.model.update(mids[1], mids[0])  # x = log B, y = log A
                if self.fit is not self.model:
                    self.fit.update(mids[1], mids[0])
                self.stats["samples"] += 1
                if self.state == PairState.WARMING and self.fit.n >= p.min_samples:
                    self.state = PairState.FLAT
                    if isinstance(self.model, KalmanHedge) and self.fit.origin is not None:
                        f = self.fit
                        r = p.kalman_r if p.kalman_r is not None else f.sd * f.sd
                        self.model.seed(f.origin, f.alpha, f.beta, f.var_alpha, f.var_beta, r)
        elif tag.startswith("timeout:"):
            if int(tag.split(":", 1)[1]) == self.batch:
                self._leg_timeout()
        elif tag == "retry" and self.state in (PairState.EXITING, PairState.UNWINDING) and not self.legs:
            self._send_legs()

    def on_book(self, market: Market) -> None:
        mids = self._log_mids()
        if mids is None or self.state == PairState.WARMING:
            return
        z = self.model.zscore(mids[1], mids[0])
        self.z = z
        if z is None or self.legs:
            return
        p = self.params
        if self.state == PairState.FLAT:
            if self.ctx.now() < self.cooldown_until or not 0 < self.model.beta <= p.max_beta:
                return
            if self.fit.r2 < p.min_r2:
                return  # the legs do not move together (enough): no relationship to trade
            if z > p.entry_z:
                self._enter(-1)
            elif z < -p.entry_z:
                self._enter(+1)
        elif self.state == PairState.IN_POSITION and (
            abs(z) < p.exit_z or (p.stop_z is not None and abs(z) > p.stop_z)
        ):
            self._exit()

    # -- orders ------------------------------------------------------------------------------------
    def hedge_qty(self) -> int:
        """Leg B's quantity for qty_a of A: notional_b = beta * notional_a, rounded to B's lot."""
        ma, mb = self.ctx.market(self.a.id).book.mid_x2(), self.ctx.market(self.b.id).book.mid_x2()
        assert ma is not None and mb is not None
        a, b = self.a, self.b
        notional_a = self.qty_a * ma * 10.0 ** (a.qty_exponent + a.price_exponent)
        qty_b = self.model.beta * notional_a / (mb * 10.0 ** (b.qty_exponent + b.price_exponent))
        q = int(qty_b) // b.lot_size * b.lot_size
        return min(q, b.max_qty)

    def _enter(self, direction: int) -> None:
        qty_b = self.hedge_qty()
        if qty_b < self.b.min_qty:
            return
        self.direction = direction
        self.last_entry = {
            "z": self.z,
            "beta": self.model.beta,
            "r2": self.fit.r2,
            "qty_b": qty_b,
            "ts": self.ctx.now(),
        }
        self.target = {self.a.id: direction * self.qty_a, self.b.id: -direction * qty_b}
        self.state = PairState.ENTERING
        self.retries = 0
        self.stats["entries"] += 1
        self._send_legs()

    def _exit(self) -> None:
        self.target = {self.a.id: 0, self.b.id: 0}
        self.state = PairState.EXITING
        self.retries = 0
        self.stats["exits"] += 1
        self._send_legs()

    def _send_legs(self) -> None:
        """One IOC per leg that is off its target, sent together."""
        self.batch += 1
        self.stats["batches"] += 1
        legs = []
        for inst in (self.a, self.b):
            delta = self.target[inst.id] - self.held[inst.id]
            if not delta:
                continue
            side = Side.Buy if delta > 0 else Side.Sell
            price = self._ioc_price(inst, side)
            if price is None:
                continue  # no touch to price against: judged as a failed leg, retried
            legs.append((inst, side, abs(delta), price))
        for inst, side, qty, price in legs:
            self.legs.append(
                self.ctx.submit(inst.id, side, qty, price, tif=TimeInForce.IOC, tag=f"leg:{self.batch}")
            )
        if self.legs:
            self.ctx.set_timer(self.params.leg_timeout_ms * MS, f"timeout:{self.batch}")
        else:
            self._legs_done()

    def _ioc_price(self, inst: Instrument, side: Side) -> int | None:
        """The touch, moved slippage_bps (times 1 + retries) through it, on the instrument's tick."""
        book = self.ctx.market(inst.id).book
        touch = book.best_ask() if side == Side.Buy else book.best_bid()
        if touch is None:
            return None
        slip = self.slippage * (1 + self.retries) * touch[0] / 10_000  # exact Fraction
        ticks = -((-slip) // inst.tick_size)  # at least the slippage, rounded up to whole ticks
        price = touch[0] + ticks * inst.tick_size if side == Side.Buy else touch[0] - ticks * inst.tick_size
        return price if price > 0 else None

    def on_order_update(self, order: OwnOrder, report) -> None:
        if report.execType == ExecType.Trade and order.instrument_id in self.held:
            qty = report.lastQty
            self.held[order.instrument_id] += qty if order.side == Side.Buy else -qty
        if order in self.legs and order.is_done:
            self.legs.remove(order)
            if order.cum_qty < order.qty:
                self.stats["failed_legs"] += 1
            if not self.legs:
                self._legs_done()

    def _leg_timeout(self) -> None:
        working = [o for o in self.legs if o.is_working]
        if working:
            self.stats["leg_timeouts"] += 1
            for o in working:
                self.ctx.cancel(o)

    def _legs_done(self) -> None:
        on_target = self.held == self.target
        if on_target:
            flat = not any(self.target.values())
            if flat:
                if self.state in (PairState.EXITING, PairState.UNWINDING):
                    self.cooldown_until = self.ctx.now() + self.params.cooldown_ms * MS
                self.direction = 0
            self.state = PairState.FLAT if flat else PairState.IN_POSITION
            self.retries = 0
            return
        if self.state == PairState.ENTERING:
            # a leg failed: trade back what filled, to flat
            self.stats["unwinds"] += 1
            self.target = {self.a.id: 0, self.b.id: 0}
            self.state = PairState.UNWINDING
            self.retries = 0
            self._send_legs()
            return
        self.retries += 1
        self.stats["retries"] += 1
        if self.retries > self.params.max_retries:
            self.halt_reason = (
                f"{self.state.value}: legs still off target after {self.params.max_retries} retries "
                f"(held {self.held}, target {self.target})"
            )
            self.state = PairState.HALTED
            self.ctx.log.error("pairs halted: %s", self.halt_reason)
            return
        self.ctx.set_timer(self.params.retry_delay_ms * MS, "retry")
