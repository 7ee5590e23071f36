"""Settings of the simulated venue's adapter: its data client (the seeded synthetic markets) and its
execution client (the matching engines). The venue's own settings (latency, fees, self-trade policy,
queue model, market parameters) live in configs/venues.toml under [venues.sim]."""

from __future__ import annotations

from dataclasses import dataclass

from core.config.base import Table

VENUE = "sim"
BOOK_IMPLEMENTATIONS = ("fast", "reference")


@dataclass(frozen=True)
class SimDataClientConfig:
    """seed: the synthetic markets' seed (same seed, same stream). symbols: which of the venue's
    instruments to generate (empty: all of them)."""

    seed: int = 0
    symbols: tuple[str, ...] = ()
    venue: str = VENUE

    @classmethod
    def from_table(cls, t: Table) -> SimDataClientConfig:
        seed = t.get("seed", int, 0)
        symbols = t.get("symbols", list, [])
        if not all(isinstance(s, str) and s for s in symbols):
            raise t.error("symbols", "must be a list of symbol names")
        venue = t.get("venue", str, VENUE)
        t.reject_unknown()
        return cls(seed=seed, symbols=tuple(symbols), venue=venue)


@dataclass(frozen=True)
class SimExecClientConfig:
    """account_id: the account the desk's orders trade for at the sim venue (self-trade prevention with
    scope "account" keeps the desk's own orders from trading with each other). book: the own-order
    book implementation of the engines."""

    account_id: int = 1
    book: str = "fast"
    venue: str = VENUE

    def __post_init__(self) -> None:
        if self.book not in BOOK_IMPLEMENTATIONS:
            raise ValueError(f"book must be one of {', '.join(BOOK_IMPLEMENTATIONS)}, got {self.book!r}")

    @classmethod
    def from_table(cls, t: Table) -> SimExecClientConfig:
        account = t.get("account_id", int, 1)
        book = t.get("book", str, "fast")
        if book not in BOOK_IMPLEMENTATIONS:
            raise t.error("book", f"must be one of {', '.join(BOOK_IMPLEMENTATIONS)}, got {book!r}")
        venue = t.get("venue", str, VENUE)
        t.reject_unknown()
        return cls(account_id=account, book=book, venue=venue)
