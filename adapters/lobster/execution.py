"""Order entry for LOBSTER: there is none. LOBSTER is recorded NASDAQ order flow, a historical data
source; orders against its market go to the simulated venue, which matches them on the replayed book."""

from __future__ import annotations


class OrderEntryUnavailable(RuntimeError):
    """The venue has no order entry."""


MESSAGE = (
    "LOBSTER is a historical data source (recorded NASDAQ order flow): order entry is not available "
    "for it. Replay its market data and send orders to the sim venue instead."
)


class LobsterExecutionClient:
    """Present so every venue folder has the same shape; constructing it says why it cannot exist."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise OrderEntryUnavailable(MESSAGE)
