"""The seeded synthetic market: the demo's default feed (core/market/synthetic.py) and a merged
multi-instrument feed (core/market/feed.py)."""

from core.market.feed import SyntheticFeed
from core.market.params import SyntheticParams
from core.market.synthetic import DEFAULT_START_TS_NS, Regime, SyntheticMarket

__all__ = ["DEFAULT_START_TS_NS", "Regime", "SyntheticFeed", "SyntheticMarket", "SyntheticParams"]
