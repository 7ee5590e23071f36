"""Results of checking a reconstructed book against the venue's own truth.

Shared by every real-data adapter (Binance bookTicker, LOBSTER orderbook rows) and by
`aerodesk data check`, so the CLI reports every format the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TruthCheck:
    """Counts of book states and levels compared with the venue's truth, and the first mismatches."""

    source: str  # file checked
    format: str  # e.g. "binance-spot", "lobster"
    truth: str  # what the truth is, e.g. "bookTicker best bid/ask" or "LOBSTER orderbook rows"
    states_compared: int = 0
    levels_compared: int = 0
    levels_mismatched: int = 0
    states_mismatched: int = 0
    messages: int = 0  # input messages replayed
    notes: list[str] = field(default_factory=list)  # e.g. resyncs, gaps, skipped lines (with counts)
    first_mismatches: list[str] = field(default_factory=list)  # human-readable, capped

    MAX_EXAMPLES = 20

    @property
    def ok(self) -> bool:
        return self.states_compared > 0 and self.levels_mismatched == 0 and self.states_mismatched == 0

    def mismatch(self, description: str, levels: int = 1) -> None:
        self.states_mismatched += 1
        self.levels_mismatched += levels
        if len(self.first_mismatches) < self.MAX_EXAMPLES:
            self.first_mismatches.append(description)

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "format": self.format,
            "truth": self.truth,
            "messages": self.messages,
            "states_compared": self.states_compared,
            "states_mismatched": self.states_mismatched,
            "levels_compared": self.levels_compared,
            "levels_mismatched": self.levels_mismatched,
            "ok": self.ok,
            "notes": self.notes,
            "first_mismatches": self.first_mismatches,
        }


@dataclass
class BookView:
    """A reconstructed book at one moment, as decimal strings ready to print or serialise."""

    source: str
    format: str
    symbol: str
    ts_ns: int  # exchange/event time of the last applied update
    update_id: int  # venue's update id or message index of the last applied update
    price_exponent: int
    qty_exponent: int
    bids: list[tuple[int, int]] = field(default_factory=list)  # (price mantissa, qty mantissa), best first
    asks: list[tuple[int, int]] = field(default_factory=list)
