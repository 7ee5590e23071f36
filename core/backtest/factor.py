"""Correlated synthetic markets, built in the harness: every market's fair price is its own seeded
synthetic process (core/market/synthetic.py: mean-reverting around its start price) times a shared
common factor, exp(loading * F(t)).

F is a seeded random walk in log-price space (vol_bps per sqrt(second)), drawn on a fixed time grid and
interpolated linearly between grid points, so every market reads the same path whatever the times of
its own events. Two markets with loadings 1 move together (log-price correlation near 1 over horizons
where F dominates), and the spread log(A) - log(B) is the difference of their own mean-reverting parts:
stationary, which is what a pairs strategy trades.

The generator itself is not changed: CorrelatedMarket only overrides its public `fair_price`, which the
generator reads wherever it places orders, so the book follows the factor.
"""

from __future__ import annotations

import math
import random

from core.instruments import Instrument
from core.market.params import SyntheticParams
from core.market.synthetic import DEFAULT_START_TS_NS, SyntheticMarket

_NS = 1_000_000_000


class CommonFactor:
    def __init__(
        self, seed: int, vol_bps: float, *, start_ts_ns: int = DEFAULT_START_TS_NS, step_ns: int = 20_000_000
    ) -> None:
        if vol_bps < 0:
            raise ValueError(f"factor vol_bps must not be negative, got {vol_bps}")
        if step_ns <= 0:
            raise ValueError(f"factor step_ns must be positive, got {step_ns}")
        self.vol_bps = vol_bps
        self.start_ts_ns = start_ts_ns
        self.step_ns = step_ns
        self._rng = random.Random(f"aerodesk-common-factor-{seed}")
        self._sd = vol_bps * 1e-4 * math.sqrt(step_ns / _NS)
        self._path = [0.0]

    def at(self, ts_ns: int) -> float:
        """F at ts_ns (log units); 0 at and before the start."""
        if ts_ns <= self.start_ts_ns:
            return 0.0
        k, rem = divmod(ts_ns - self.start_ts_ns, self.step_ns)
        path = self._path
        while len(path) <= k + 1:
            path.append(path[-1] + self._sd * self._rng.gauss(0.0, 1.0))
        v0 = path[k]
        return v0 + (path[k + 1] - v0) * (rem / self.step_ns)


class CorrelatedMarket(SyntheticMarket):
    def __init__(
        self,
        instrument: Instrument,
        params: SyntheticParams | None = None,
        *,
        factor: CommonFactor,
        loading: float = 1.0,
        seed: int = 0,
        start_ts_ns: int = DEFAULT_START_TS_NS,
    ) -> None:
        super().__init__(instrument, params, seed=seed, start_ts_ns=start_ts_ns)
        self.factor = factor
        self.loading = loading

    @property
    def fair_price(self) -> float:
        return super().fair_price * math.exp(self.loading * self.factor.at(self.now_ns))
