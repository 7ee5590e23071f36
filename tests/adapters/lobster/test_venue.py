"""The LOBSTER venue folder: instrument provider, the absent order entry, the config."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.lobster import (
    LobsterDataConfig,
    LobsterExecutionClient,
    LobsterInstrumentProvider,
    OrderEntryUnavailable,
)
from core.instruments import Instrument, InstrumentCatalog


def test_static_data_instruments() -> None:
    provider = LobsterInstrumentProvider()
    goog, aapl = provider.instrument("GOOG"), provider.instrument("aapl")
    assert (goog.id, aapl.id) == (201, 202)
    assert (goog.venue, goog.price_exponent, goog.qty_exponent) == ("lobster", -4, 0)
    assert provider.is_registered(goog)


def test_unknown_ticker_is_inferred_and_marked_unregistered() -> None:
    msft = LobsterInstrumentProvider().instrument("MSFT")
    assert (msft.symbol, msft.venue, msft.kind, msft.quote) == ("MSFT", "lobster", "equity", "USD")
    assert (msft.price_exponent, msft.qty_exponent) == (-4, 0)
    assert msft.price(5_802_300) == Decimal("580.23")  # LOBSTER prices are dollars x 10000
    assert not LobsterInstrumentProvider.is_registered(msft)


def test_static_data_with_other_exponents_is_refused() -> None:
    odd = Instrument(301, "IBM", "lobster", "equity", "IBM", "USD", price_exponent=-2, qty_exponent=0)
    with pytest.raises(ValueError, match="price_exponent -4"):
        LobsterInstrumentProvider(InstrumentCatalog([odd])).instrument("IBM")


def test_order_entry_is_not_available() -> None:
    with pytest.raises(OrderEntryUnavailable, match="historical data source"):
        LobsterExecutionClient()


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        LobsterDataConfig("x.zip", timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="give the LOBSTER zip"):
        LobsterDataConfig("")
    assert LobsterDataConfig("x.zip").zone.key == "America/New_York"
