"""Settings of the LOBSTER historical data source."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

VENUE = "lobster"  # configs/venues.toml
EXCHANGE_TIMEZONE = "America/New_York"  # LOBSTER times are seconds after local midnight at NASDAQ
PRICE_EXPONENT = -4  # LOBSTER prices are dollars x 10000
QTY_EXPONENT = 0  # sizes are shares
TRADING_HOURS = "09:30-16:00 America/New_York"


@dataclass(frozen=True)
class LobsterDataConfig:
    """One LOBSTER dataset to replay.

    path: the zip as LOBSTER ships it, or the message (or orderbook) CSV with its partner beside it.
    timezone: where "seconds after midnight" are counted from.

    The orderbook file is always read with the messages: the book learns levels entering the visible
    window from it, and compares itself with every row on the way (adapters/lobster/replay.py).
    """

    path: str
    timezone: str = EXCHANGE_TIMEZONE

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("LobsterDataConfig.path: give the LOBSTER zip or message CSV")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"LobsterDataConfig.timezone: unknown time zone {self.timezone!r}") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
