"""Parameters of the seeded synthetic market of one instrument, and their strict TOML reading.

Model parameters (rates, volatilities, half-lives) are floats: they shape a random process, they are
not money. Prices leave the generator as exact int mantissas on the instrument's tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.config.base import Table
from core.instruments import Instrument

DEFAULT_START_PRICE = Decimal(100)


@dataclass(frozen=True, slots=True)
class SyntheticParams:
    start_price: int  # price mantissa; also the long-run mean of the fair price
    level_spacing_ticks: int = 1  # distance between the generator's price levels, in ticks
    levels: int = 10  # levels kept on each side of the book
    event_rate_hz: float = 150.0  # book events (arrivals, cancels, market orders) per second
    calm_vol_bps: float = 1.0  # fair-price volatility per sqrt(second), calm regime
    volatile_vol_bps: float = 4.0  # same, volatile regime
    half_life_s: float = 300.0  # mean-reversion half-life of the fair price
    calm_duration_s: float = 120.0  # mean time spent in the calm regime before switching
    volatile_duration_s: float = 30.0  # mean time spent in the volatile regime
    mean_size_lots: int = 20  # mean size of a limit-order arrival, in lots
    trade_fraction: float = 0.15  # share of events that are market orders
    cancel_fraction: float = 0.35  # share of events that are cancels (the rest are limit arrivals)
    snapshot_interval_s: float = 0.0  # 0: one snapshot at the start only

    def __post_init__(self) -> None:
        checks = (
            (self.start_price > 0, "start_price must be positive"),
            (self.level_spacing_ticks > 0, "level_spacing_ticks must be positive"),
            (2 <= self.levels <= 1000, "levels must be in 2..1000"),
            (self.event_rate_hz > 0, "event_rate_hz must be positive"),
            (
                self.calm_vol_bps >= 0 and self.volatile_vol_bps >= 0,
                "calm_vol_bps and volatile_vol_bps must not be negative",
            ),
            (self.half_life_s > 0, "half_life_s must be positive"),
            (
                self.calm_duration_s > 0 and self.volatile_duration_s > 0,
                "calm_duration_s and volatile_duration_s must be positive",
            ),
            (self.mean_size_lots > 0, "mean_size_lots must be positive"),
            (
                0 <= self.trade_fraction < 1 and 0 <= self.cancel_fraction < 1,
                "trade_fraction and cancel_fraction must be in [0, 1)",
            ),
            (self.trade_fraction + self.cancel_fraction < 1, "trade_fraction + cancel_fraction must be < 1"),
            (self.snapshot_interval_s >= 0, "snapshot_interval_s must not be negative"),
        )
        for ok, why in checks:
            if not ok:
                raise ValueError(why)

    @classmethod
    def for_instrument(cls, instrument: Instrument, start_price: Decimal | str | None = None, **kw: object):
        """Defaults scaled to the instrument: start price on its tick, levels about 0.5 bp apart."""
        price = Decimal(start_price) if start_price is not None else DEFAULT_START_PRICE
        mantissa = instrument.price_mantissa(price)
        mantissa -= mantissa % instrument.tick_size
        if mantissa <= 0:
            raise ValueError(f"{instrument.symbol}: start price {price} rounds to nothing on tick")
        if "level_spacing_ticks" not in kw:
            kw["level_spacing_ticks"] = max(1, mantissa // 20_000 // instrument.tick_size)
        return cls(start_price=mantissa, **kw)  # type: ignore[arg-type]


_FLOAT_KEYS = (
    "event_rate_hz",
    "calm_vol_bps",
    "volatile_vol_bps",
    "half_life_s",
    "calm_duration_s",
    "volatile_duration_s",
    "trade_fraction",
    "cancel_fraction",
    "snapshot_interval_s",
)
_INT_KEYS = ("level_spacing_ticks", "levels", "mean_size_lots")


def read_params(t: Table, instrument: Instrument) -> SyntheticParams:
    """One `[venues.sim.markets.SYMBOL]` table; unknown keys and bad values name the file and key."""
    start = t.get("start_price", Decimal, DEFAULT_START_PRICE)
    kw: dict[str, object] = {}
    for name in _FLOAT_KEYS:
        if name in t:
            kw[name] = t.get(name, float)
    for name in _INT_KEYS:
        if name in t:
            kw[name] = t.get(name, int)
    t.reject_unknown()
    try:
        return SyntheticParams.for_instrument(instrument, start, **kw)
    except ValueError as e:
        # The messages start with the offending key's name (or mention the start price).
        first = str(e).split()[0]
        key = first if first in kw else "start_price"
        raise t.error(key, str(e)) from None
