"""The seeded synthetic market: the demo's default feed (core/market/synthetic.py), a common factor that
correlates instruments (core/market/factor.py) and a merged multi-instrument feed (core/market/feed.py)."""

from core.market.factor import CommonFactor, CorrelatedMarket, FactorParams, synthetic_markets
from core.market.feed import SyntheticFeed
from core.market.params import SyntheticParams
from core.market.synthetic import DEFAULT_START_TS_NS, Regime, SyntheticMarket

__all__ = [
    "DEFAULT_START_TS_NS",
    "CommonFactor",
    "CorrelatedMarket",
    "FactorParams",
    "Regime",
    "SyntheticFeed",
    "SyntheticMarket",
    "SyntheticParams",
    "synthetic_markets",
]
