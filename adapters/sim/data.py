"""The sim venue's market data: one seeded synthetic market per instrument (core/market), merged in
exchange-time order. Time comes from the caller's injected clock: `start(now)` opens the markets at
`now` and returns their opening snapshots; `poll(now)` returns every event up to `now`. The same seed
and start time give the same stream."""

from __future__ import annotations

from collections import Counter

from adapters.sim.config import SimDataClientConfig
from adapters.sim.providers import SimInstrumentProvider
from core.market.feed import SyntheticFeed
from core.market.params import SyntheticParams
from core.marketdata.events import BookSnapshotEvent, MarketEvent


class NotStartedError(RuntimeError):
    """poll() or snapshot() before start(now)."""


class SimDataClient:
    def __init__(
        self, config: SimDataClientConfig | None = None, provider: SimInstrumentProvider | None = None
    ) -> None:
        self.config = config = config or SimDataClientConfig()
        self.provider = provider if provider is not None else SimInstrumentProvider(venue=config.venue)
        if config.symbols:
            self.instruments = [self.provider.resolve(s) for s in config.symbols]
        else:
            self.instruments = self.provider.instruments()
        configured = self.provider.config.markets
        self.params = {
            i.symbol: configured.get(i.symbol) or SyntheticParams.for_instrument(i) for i in self.instruments
        }
        self.feed: SyntheticFeed | None = None
        self.stats: Counter[str] = Counter()  # events by kind

    def start(self, now_ns: int) -> list[MarketEvent]:
        """Open every market at `now_ns`; returns the opening snapshots."""
        self.feed = SyntheticFeed.for_instruments(
            self.instruments, self.params, seed=self.config.seed, start_ts_ns=now_ns
        )
        return self.poll(now_ns)

    def poll(self, now_ns: int) -> list[MarketEvent]:
        """Every event stamped at or before `now_ns` not yet returned."""
        if self.feed is None:
            raise NotStartedError("SimDataClient.poll before start(now)")
        events = self.feed.events_until(now_ns)
        for e in events:
            self.stats[type(e).__name__] += 1
        return events

    def snapshot(self, instrument_id: int) -> BookSnapshotEvent:
        """The current book of one instrument, for a subscriber that joins late."""
        if self.feed is None:
            raise NotStartedError("SimDataClient.snapshot before start(now)")
        return self.feed.snapshot(instrument_id)
