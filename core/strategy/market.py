"""Market state of one instrument in a strategy host: its L2 book, kept from the md stream's BookSnapshot
and BookDelta messages, and whether it can be trusted.

Sequencing: `seq` is the md daemon's per-instrument sequence over every market-data message of the
instrument (snapshots, deltas and trades). A message whose seq does not follow the last one is a gap:
the book is marked unsynced (strategies must not quote on it) until the next BookSnapshot. seq 0 means
"unsequenced" and is never checked. A FeedState Gap / Resyncing / Stale / Ended also unsyncs the book.
"""

from __future__ import annotations

from core.book import FastL2Book, L2Book
from core.codec.messages import FeedStatus
from core.instruments import Instrument

SEQ_OK, SEQ_OLD, SEQ_GAP = 0, 1, 2
_FEED_LOST = frozenset({FeedStatus.Gap, FeedStatus.Resyncing, FeedStatus.Stale, FeedStatus.Ended})


class Market:
    """One instrument's book as the host sees it. Written by the host only; strategies read it."""

    __slots__ = (
        "book",
        "exchange_ts",
        "feed_status",
        "gaps",
        "instrument",
        "publish_ts",
        "seq",
        "synced",
        "updated_ns",
        "updates",
    )

    def __init__(self, instrument: Instrument, book: L2Book | None = None) -> None:
        self.instrument = instrument
        self.book: L2Book = book if book is not None else FastL2Book(instrument.id)
        self.synced = False  # a snapshot was applied and no gap since
        self.feed_status = FeedStatus.Ok
        self.seq = 0  # last md sequence number seen
        self.updated_ns = 0  # host time of the last book change
        self.exchange_ts = 0  # venue time of the last book change
        self.publish_ts = 0  # md publish time of the last book change
        self.updates = 0
        self.gaps = 0

    @property
    def instrument_id(self) -> int:
        return self.instrument.id

    def usable(self) -> bool:
        """Synced, both sides present and not crossed: a book one may quote against."""
        if not self.synced:
            return False
        bid, ask = self.book.best_bid(), self.book.best_ask()
        return bid is not None and ask is not None and bid[0] < ask[0]

    def is_stale(self, now_ns: int, max_age_ns: int) -> bool:
        """No book change for longer than max_age_ns (host time), or never one."""
        return not self.updated_ns or now_ns - self.updated_ns > max_age_ns

    # -- written by the host -----------------------------------------------------------------------
    def check_seq(self, seq: int) -> int:
        """Track the md sequence of a delta or trade: SEQ_OK, SEQ_OLD (a repeat or older: drop it) or
        SEQ_GAP (messages were lost: the book is unsynced until the next snapshot)."""
        if not seq:
            return SEQ_OK
        last = self.seq
        if last and seq <= last:
            return SEQ_OLD
        self.seq = seq
        if last and seq != last + 1:
            self.gaps += 1
            self.synced = False
            return SEQ_GAP
        return SEQ_OK

    def on_feed_status(self, status: FeedStatus) -> None:
        self.feed_status = status
        if status in _FEED_LOST:
            self.synced = False

    def __repr__(self) -> str:
        return (
            f"Market({self.instrument.symbol}, synced={self.synced}, bid={self.book.best_bid()}, "
            f"ask={self.book.best_ask()}, seq={self.seq})"
        )
