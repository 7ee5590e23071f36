"""Instrument provider for LOBSTER datasets: static data from configs/instruments.toml, else inferred."""

from __future__ import annotations

from adapters.lobster.config import PRICE_EXPONENT, QTY_EXPONENT, TRADING_HOURS, VENUE
from core.instruments import Instrument, InstrumentCatalog, load_instruments

UNREGISTERED_ID = 0  # an inferred instrument has no stable id: it cannot be published on the bus


class LobsterInstrumentProvider:
    """Finds the instrument of a LOBSTER ticker at venue "lobster".

    A ticker missing from static data is inferred as a NASDAQ equity quoted in USD with LOBSTER's own
    exponents and id 0 (`UNREGISTERED_ID`): fine for offline reconstruction, and `is_registered`
    tells callers that must not publish it.
    """

    def __init__(self, catalog: InstrumentCatalog | None = None) -> None:
        self._catalog = catalog

    @property
    def catalog(self) -> InstrumentCatalog:
        if self._catalog is None:
            self._catalog = load_instruments()
        return self._catalog

    def instrument(self, symbol: str) -> Instrument:
        known = self.catalog.find(symbol, venue=VENUE)
        if known is not None:
            if known.price_exponent != PRICE_EXPONENT or known.qty_exponent != QTY_EXPONENT:
                raise ValueError(
                    f"instrument {known.symbol} (id {known.id}) at venue {VENUE}: LOBSTER prices need "
                    f"price_exponent {PRICE_EXPONENT} and qty_exponent {QTY_EXPONENT}, static data says "
                    f"{known.price_exponent} and {known.qty_exponent}"
                )
            return known
        return Instrument(
            id=UNREGISTERED_ID,
            symbol=symbol.upper(),
            venue=VENUE,
            kind="equity",
            base=symbol.upper(),
            quote="USD",
            price_exponent=PRICE_EXPONENT,
            qty_exponent=QTY_EXPONENT,
            trading_hours=TRADING_HOURS,
        )

    @staticmethod
    def is_registered(instrument: Instrument) -> bool:
        return instrument.id != UNREGISTERED_ID
