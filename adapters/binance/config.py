"""Configuration of the Binance adapter: which market (spot or USD-M futures) and which symbols."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.config.base import Table

BOOK_IMPLEMENTATIONS = ("fast", "reference")


class BinanceMarket(StrEnum):
    SPOT = "spot"
    USDM = "usdm"

    @property
    def venue(self) -> str:
        """Venue name in configs/instruments.toml, and the `--format` name of `aerodesk data`."""
        return f"binance-{self.value}"

    @property
    def kind(self) -> str:
        return "spot" if self is BinanceMarket.SPOT else "perpetual"

    @classmethod
    def from_format(cls, name: str) -> BinanceMarket:
        for market in cls:
            if name in (market.value, market.venue):
                return market
        raise ValueError(f"not a Binance market: {name!r} (use binance-spot or binance-usdm)")


@dataclass(frozen=True)
class BinanceDataClientConfig:
    """Market-data client settings. `symbols` empty means every symbol the stream carries."""

    market: BinanceMarket
    symbols: tuple[str, ...] = ()
    book: str = "fast"  # L2 book implementation: "fast" or "reference"
    max_buffered_diffs: int = 10_000  # per symbol, while waiting for a snapshot

    def __post_init__(self) -> None:
        if self.book not in BOOK_IMPLEMENTATIONS:
            raise ValueError(f"book must be one of {', '.join(BOOK_IMPLEMENTATIONS)}, got {self.book!r}")
        if self.max_buffered_diffs <= 0:
            raise ValueError(f"max_buffered_diffs must be positive, got {self.max_buffered_diffs}")
        object.__setattr__(self, "symbols", tuple(s.upper() for s in self.symbols))

    @classmethod
    def from_table(cls, t: Table) -> BinanceDataClientConfig:
        """From a strict TOML table: market = "spot"|"usdm", symbols = [...], book, max_buffered_diffs."""
        try:
            market = BinanceMarket.from_format(t.get("market", str))
        except ValueError as e:
            raise t.error("market", str(e)) from None
        symbols = t.get("symbols", list, [])
        if not all(isinstance(s, str) and s for s in symbols):
            raise t.error("symbols", "must be a list of symbol names")
        book = t.get("book", str, "fast")
        if book not in BOOK_IMPLEMENTATIONS:
            raise t.error("book", f"must be one of {', '.join(BOOK_IMPLEMENTATIONS)}, got {book!r}")
        max_buffered = t.get("max_buffered_diffs", int, 10_000)
        if max_buffered <= 0:
            raise t.error("max_buffered_diffs", f"must be positive, got {max_buffered}")
        t.reject_unknown()
        return cls(market=market, symbols=tuple(symbols), book=book, max_buffered_diffs=max_buffered)
