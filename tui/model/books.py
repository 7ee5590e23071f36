"""Order books as the TUI sees them: one L2 book per instrument folded from the market_data stream.

Sequence discipline (the md daemon stamps a gap-free per-instrument `seq` over BookSnapshot, BookDelta
and Trade): a book is *synced* once a BookSnapshot was applied and every message since followed with
seq + 1. A jump means this observer lost messages (an untethered subscriber dropped by the driver, or
an md restart): the book is marked out of sync, deltas are ignored, and the next BookSnapshot (the md
republishes each book periodically) syncs it again. Trades are shown even while out of sync: each is a
fact on its own. FeedState from the md marks a book the feed itself has lost.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from core.book import FastL2Book
from core.codec.messages import FeedStatus
from tui.model.mdwire import LEVELS_AT, PUBLISH_TS, SEQ, DeltaValues

_BAD_FEED = frozenset({FeedStatus.Gap, FeedStatus.Resyncing, FeedStatus.Stale, FeedStatus.Crossed})


class BookState:
    """One instrument's book, trade tape and sync status. Single writer: the bus worker thread."""

    __slots__ = (
        "book",
        "feed_status",
        "feed_text",
        "gaps",
        "ignored",
        "instrument_id",
        "last_local_ns",
        "last_publish_ts",
        "messages",
        "out_of_sync_reason",
        "seq",
        "synced",
        "trades",
        "version",
    )

    def __init__(self, instrument_id: int, trades_kept: int = 32) -> None:
        self.instrument_id = instrument_id
        self.book = FastL2Book(instrument_id)
        self.seq = 0
        self.synced = False
        self.out_of_sync_reason = "waiting for a book snapshot"
        self.gaps = 0
        self.ignored = 0  # deltas dropped while out of sync
        self.messages = 0
        self.trades: deque[tuple[int, int, int, int]] = deque(maxlen=trades_kept)  # ts, price, qty, side
        self.feed_status: FeedStatus = FeedStatus.Ok
        self.feed_text = ""
        self.last_publish_ts = 0  # md publishTs of the newest message folded
        self.last_local_ns = 0  # local monotonic time it was folded
        self.version = 0  # bumped on every visible change

    # -- folding --------------------------------------------------------------------------------
    def apply_snapshot(self, msg: Any, now_ns: int) -> None:
        bids = [(p, q) for p, q, _count in msg.bids.rows()]
        asks = [(p, q) for p, q, _count in msg.asks.rows()]
        self.book.apply_snapshot(bids, asks, msg.seq)
        self.seq = msg.seq
        self.synced = True
        self.out_of_sync_reason = ""
        self._touched(msg.publishTs, now_ns)

    def apply_delta(self, v: DeltaValues, now_ns: int) -> None:
        """Flat values from mdwire.read_delta. The hot path: one call per message, nothing else."""
        seq = v[SEQ]
        expected = self.seq + 1
        self.seq = seq
        self.messages += 1
        self.version += 1
        self.last_local_ns = now_ns
        if v[PUBLISH_TS] > self.last_publish_ts:
            self.last_publish_ts = v[PUBLISH_TS]
        if not self.synced:
            self.ignored += 1
            return
        if seq != expected:
            self._gap(expected, seq)
            self.ignored += 1
            return
        apply = self.book.apply_delta  # BookSide values are the wire's: 1 bid, 2 ask
        for i in range(LEVELS_AT, len(v), 4):
            apply(v[i], v[i + 1], v[i + 2])
        self.book.update_id = seq

    def apply_trade(
        self, seq: int, ts: int, price: int, qty: int, side: int, publish_ts: int, now_ns: int
    ) -> None:
        self._in_sequence(seq)
        self.trades.appendleft((ts, price, qty, side))
        self._touched(publish_ts, now_ns)

    def apply_feed_state(self, status: FeedStatus, text: str, now_ns: int) -> None:
        self.feed_status = status
        self.feed_text = text
        self.version += 1
        self.last_local_ns = now_ns

    def mark_rejoined(self) -> None:
        """This observer's subscription was dropped and rejoined: nothing since can be trusted."""
        if self.synced:
            self.synced = False
            self.gaps += 1
        self.out_of_sync_reason = "rejoined the market data: waiting for the next book snapshot"
        self.version += 1

    # -- status ---------------------------------------------------------------------------------
    @property
    def feed_ok(self) -> bool:
        return self.feed_status not in _BAD_FEED

    def _in_sequence(self, seq: int) -> bool:
        """Advance the sequence; on a jump, drop sync until the next snapshot. True if the book may apply."""
        expected = self.seq + 1
        self.seq = seq
        if not self.synced:
            return False
        if seq != expected:
            self._gap(expected, seq)
            return False
        return True

    def _gap(self, expected: int, seq: int) -> None:
        self.synced = False
        self.gaps += 1
        self.out_of_sync_reason = (
            f"sequence gap (expected {expected}, got {seq}): waiting for the next book snapshot"
        )

    def _touched(self, publish_ts: int, now_ns: int) -> None:
        self.messages += 1
        self.version += 1
        if publish_ts > self.last_publish_ts:
            self.last_publish_ts = publish_ts
        self.last_local_ns = now_ns


class Books:
    """Every instrument's BookState, created on first sight."""

    def __init__(self, trades_kept: int = 32) -> None:
        self.trades_kept = trades_kept
        self.by_id: dict[int, BookState] = {}
        self.feed_status: FeedStatus = FeedStatus.Ok  # FeedState with instrumentId 0: the whole feed
        self.feed_text = ""

    def get(self, instrument_id: int) -> BookState:
        b = self.by_id.get(instrument_id)
        if b is None:
            b = self.by_id[instrument_id] = BookState(instrument_id, self.trades_kept)
        return b

    def on_feed_state(self, msg: Any, now_ns: int) -> None:
        if msg.instrumentId == 0:
            self.feed_status, self.feed_text = msg.status, msg.text
            for b in self.by_id.values():
                b.version += 1
            return
        self.get(msg.instrumentId).apply_feed_state(msg.status, msg.text, now_ns)

    def mark_rejoined(self) -> None:
        for b in self.by_id.values():
            b.mark_rejoined()

    @property
    def gaps(self) -> int:
        return sum(b.gaps for b in self.by_id.values())
