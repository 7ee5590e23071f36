"""Instrument provider: static data for Binance symbols, or exponents inferred from the data.

A symbol configured in configs/instruments.toml (venue "binance-spot" or "binance-usdm", matched by
symbol or venue_symbol) uses its static data. Any other symbol gets an instrument whose price and
quantity exponents come from the decimal strings in the data: Binance prints every price and
quantity of a symbol with a fixed number of decimals, so the decimals written are the finest the data
can need. Such instruments have id 0 (no stable id: they are not in static data) and the tag
"inferred"; a later value finer than the inferred exponent is rejected by the parser, never rounded.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.binance.config import BinanceMarket
from core.instruments import Instrument, InstrumentCatalog, load_instruments
from core.marketdata.fixedpoint import decimal_places

# Quote assets recognised when splitting an unconfigured symbol into base and quote.
_QUOTES = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL", "JPY")
INFERRED_TAG = "inferred"


class BinanceInstrumentProvider:
    def __init__(self, market: BinanceMarket, catalog: InstrumentCatalog | None = None) -> None:
        """`catalog` defaults to configs/instruments.toml (a ConfigError if that file is invalid)."""
        self.market = market
        self.catalog = catalog if catalog is not None else load_instruments()
        self._cache: dict[str, Instrument] = {}

    def find(self, symbol: str) -> Instrument | None:
        """The instrument already known for a symbol (static or inferred), without inferring."""
        key = symbol.upper()
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        static = self.catalog.find(key, venue=self.market.venue)
        if static is not None:
            self._cache[key] = static
        return static

    def instrument(self, symbol: str, prices: Iterable[str] = (), qtys: Iterable[str] = ()) -> Instrument:
        """Static instrument for the symbol, else one inferred from sample price and qty strings."""
        known = self.find(symbol)
        if known is not None:
            return known
        price_places = _max_places(prices)
        qty_places = _max_places(qtys)
        if price_places is None or qty_places is None:
            raise ValueError(
                f"{symbol}: not in static data and no prices/quantities seen yet to infer its exponents"
            )
        return self.register_inferred(symbol, -price_places, -qty_places)

    def register_inferred(self, symbol: str, price_exponent: int, qty_exponent: int) -> Instrument:
        """Record exponents found by scanning a whole file (CSV writers do not print fixed decimals)."""
        key = symbol.upper()
        known = self.find(key)
        if known is not None:
            return known
        base, quote = split_symbol(key)
        inst = Instrument(
            id=0,
            symbol=key,
            venue=self.market.venue,
            kind=self.market.kind,
            base=base,
            quote=quote,
            price_exponent=price_exponent,
            qty_exponent=qty_exponent,
            tags=(INFERRED_TAG,),
        )
        self._cache[key] = inst
        return inst


def split_symbol(symbol: str) -> tuple[str, str]:
    for quote in _QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return symbol, ""


def _max_places(values: Iterable[str]) -> int | None:
    best: int | None = None
    for text in values:
        places = decimal_places(text)
        if best is None or places > best:
            best = places
    return best
