"""The simulated venue: matching engines per instrument (price-time priority against the market-data
book and between simulated orders), a deterministic latency model, venue reports and venue config.

Pure logic shared by backtest and live: no bus, no threads, no wall clock. See core/sim/engine.py for
the order types and the queue-position model, core/sim/venue.py for latency.
"""

from core.sim.config import (
    QueueCancels,
    SelfTradePolicy,
    SelfTradeScope,
    SimVenueConfig,
    VenueCatalog,
    VenueConfig,
    load_venues,
)
from core.sim.engine import IdSource, MatchingEngine
from core.sim.orders import CancelRequest, NewOrderRequest, ReplaceRequest, SimOrder
from core.sim.reports import (
    CancelRejected,
    Liquidity,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    RejectCode,
    ReplaceRejected,
    VenueReport,
)
from core.sim.venue import SimVenue, VenueStats

__all__ = [
    "CancelRejected",
    "CancelRequest",
    "IdSource",
    "Liquidity",
    "MatchingEngine",
    "NewOrderRequest",
    "OrderAccepted",
    "OrderCanceled",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderReplaced",
    "QueueCancels",
    "RejectCode",
    "ReplaceRejected",
    "ReplaceRequest",
    "SelfTradePolicy",
    "SelfTradeScope",
    "SimOrder",
    "SimVenue",
    "SimVenueConfig",
    "VenueCatalog",
    "VenueConfig",
    "VenueReport",
    "VenueStats",
    "load_venues",
]
