"""A common factor for the synthetic markets: correlated instruments, as a pairs strategy needs.

Every market's fair price is its own seeded synthetic process (core/market/synthetic.py: mean-reverting
around its start price, with calm and volatile regimes) times a shared factor, exp(loading * F(t)).

F is a seeded random walk in log-price space (vol_bps per sqrt(second)), drawn on a fixed time grid
(step_ms) and interpolated linearly between grid points, so every market reads the same path whatever
the times of its own events, and whatever order they are read in. Over horizons short against the
markets' mean-reversion half-lives, the log returns of two markets with loadings La, Lb and own
volatilities sa, sb (bps per sqrt(second)) have the correlation

    La * Lb * vol^2 / sqrt((La^2 * vol^2 + sa^2) * (Lb^2 * vol^2 + sb^2))

(1 when the factor dominates, 0 for a loading of 0). The spread log(A) - log(B) of two markets with
equal loadings is the difference of their own mean-reverting parts: stationary, which is what a pairs
strategy trades.

The generator is not changed: CorrelatedMarket overrides its public `fair_price`, which the generator
reads wherever it places orders, so the book follows the factor. The factor has its own random stream
(seeded from the feed's seed), so a market's own stream is the same with or without it.

Configuration: a `[venues.NAME.factor]` table of configs/venues.toml (read_factor), used by the md
daemon's synthetic feed and by the backtest:

    [venues.sim.factor]
    vol_bps = 3.0          # the factor's volatility per sqrt(second)
    step_ms = 20           # its time grid
    [venues.sim.factor.loadings]
    BTC-USD = 1.0          # a market not listed does not load on the factor (independent)
    ETH-USD = 1.0
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from core.config.base import Table
from core.instruments import Instrument
from core.market.params import SyntheticParams
from core.market.synthetic import DEFAULT_START_TS_NS, SyntheticMarket

_NS = 1_000_000_000
MAX_LOADING = 10.0  # exp(10 * F) would leave any sane price range long before F is large


@dataclass(frozen=True, slots=True)
class FactorParams:
    vol_bps: float  # the factor's volatility, bps per sqrt(second)
    loadings: Mapping[str, float] = field(default_factory=dict)  # by symbol; not listed: 0 (independent)
    step_ms: int = 20  # the walk's time grid

    def __post_init__(self) -> None:
        if not self.vol_bps >= 0 or math.isinf(self.vol_bps):
            raise ValueError(f"vol_bps must be a finite number >= 0, got {self.vol_bps}")
        if self.step_ms <= 0:
            raise ValueError(f"step_ms must be positive, got {self.step_ms}")
        for symbol, loading in self.loadings.items():
            if not -MAX_LOADING <= loading <= MAX_LOADING:
                raise ValueError(
                    f"loading of {symbol} must be in [-{MAX_LOADING}, {MAX_LOADING}], got {loading}"
                )
        object.__setattr__(self, "loadings", MappingProxyType(dict(self.loadings)))

    def loading(self, symbol: str) -> float:
        return self.loadings.get(symbol, 0.0)

    @property
    def active(self) -> bool:
        """Does the factor move anything?"""
        return self.vol_bps > 0 and any(self.loadings.values())


class CommonFactor:
    """The seeded walk F(t), in log units; 0 at and before the start."""

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
        # its own stream: the markets' streams do not depend on whether a factor is read
        self._rng = random.Random(f"aerodesk-common-factor-{seed}")
        self._sd = vol_bps * 1e-4 * math.sqrt(step_ns / _NS)
        self._path = [0.0]

    @classmethod
    def of(cls, params: FactorParams, seed: int, start_ts_ns: int = DEFAULT_START_TS_NS) -> CommonFactor:
        return cls(seed, params.vol_bps, start_ts_ns=start_ts_ns, step_ns=params.step_ms * 1_000_000)

    def at(self, ts_ns: int) -> float:
        """F at ts_ns, linear between grid points."""
        if ts_ns <= self.start_ts_ns:
            return 0.0
        k, rem = divmod(ts_ns - self.start_ts_ns, self.step_ns)
        path = self._path
        while len(path) <= k + 1:
            path.append(path[-1] + self._sd * self._rng.gauss(0.0, 1.0))
        v0 = path[k]
        return v0 + (path[k + 1] - v0) * (rem / self.step_ns)


class CorrelatedMarket(SyntheticMarket):
    """A synthetic market whose fair price loads on a common factor."""

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
        self._scale_ts = -1  # the time `_scale` was computed for: read several times per step
        self._scale = 1.0

    @property
    def fair_price(self) -> float:
        now = self.now_ns
        if now != self._scale_ts:
            self._scale_ts = now
            self._scale = math.exp(self.loading * self.factor.at(now))
        return super().fair_price * self._scale


def synthetic_markets(
    instruments: Iterable[Instrument],
    params: Mapping[str, SyntheticParams | None] | None = None,
    *,
    seed: int = 0,
    start_ts_ns: int = DEFAULT_START_TS_NS,
    factor: FactorParams | None = None,
) -> list[SyntheticMarket]:
    """One market per instrument, with `params[symbol]` or the instrument's defaults; those with a
    non-zero loading share one CommonFactor (seeded from `seed`), the others are independent."""
    params = params or {}
    common = CommonFactor.of(factor, seed, start_ts_ns) if factor is not None and factor.active else None
    out: list[SyntheticMarket] = []
    for inst in instruments:
        p = params.get(inst.symbol)
        loading = factor.loading(inst.symbol) if common is not None and factor is not None else 0.0
        if common is not None and loading:
            out.append(
                CorrelatedMarket(inst, p, factor=common, loading=loading, seed=seed, start_ts_ns=start_ts_ns)
            )
        else:
            out.append(SyntheticMarket(inst, p, seed=seed, start_ts_ns=start_ts_ns))
    return out


def read_factor(t: Table, symbols: Iterable[str]) -> FactorParams:
    """A `[venues.NAME.factor]` table; loadings may name only `symbols` (the venue's instruments)."""
    vol = t.get("vol_bps", float)
    step = t.get("step_ms", int, 20)
    lt = t.table("loadings", default_empty=True)
    known = set(symbols)
    loadings: dict[str, float] = {}
    for symbol in list(lt.keys()):
        if symbol not in known:
            raise lt.error(
                symbol, f"not an instrument of this venue (its instruments: {', '.join(sorted(known))})"
            )
        loadings[symbol] = lt.get(symbol, float)
    t.reject_unknown()
    try:
        return FactorParams(vol_bps=vol, loadings=loadings, step_ms=step)
    except ValueError as e:
        text = str(e)
        key = "loadings" if text.startswith("loading") else text.split()[0]
        raise t.error(key, text) from None
