"""Instrument provider of the simulated venue: the instruments configs/instruments.toml puts on it."""

from __future__ import annotations

from adapters.sim.config import VENUE
from core.instruments import Instrument, InstrumentCatalog, load_instruments
from core.sim.config import VenueCatalog, load_venues


class SimInstrumentProvider:
    def __init__(
        self, catalog: InstrumentCatalog | None = None, venue: str = VENUE, venues: VenueCatalog | None = None
    ) -> None:
        """`catalog` defaults to configs/instruments.toml; the venue must be a sim venue of venues.toml."""
        self.catalog = catalog if catalog is not None else load_instruments()
        self.venues = venues if venues is not None else load_venues(instruments=self.catalog)
        self.venue = venue
        self.config = self.venues.sim(venue)  # KeyError unless it is a configured sim venue
        self.venue_id = self.venues.get(venue).id
        self._instruments = {i.id: i for i in self.catalog if i.venue == venue}

    def instruments(self) -> list[Instrument]:
        return list(self._instruments.values())

    def get(self, instrument_id: int) -> Instrument:
        try:
            return self._instruments[instrument_id]
        except KeyError:
            raise KeyError(f"instrument {instrument_id} is not traded at venue {self.venue!r}") from None

    def find(self, symbol: str) -> Instrument | None:
        return self.catalog.find(symbol, venue=self.venue)

    def resolve(self, symbol: str) -> Instrument:
        return self.catalog.resolve(symbol, venue=self.venue)
