"""Normalized market data: venue-independent events and exact fixed-point text conversions."""

from core.marketdata.events import (
    Aggressor,
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    MarketEvent,
    TopOfBookEvent,
    TradeEvent,
)

__all__ = [
    "Aggressor",
    "BookDeltaEvent",
    "BookSnapshotEvent",
    "FeedStateEvent",
    "FeedStatus",
    "MarketEvent",
    "TopOfBookEvent",
    "TradeEvent",
]
