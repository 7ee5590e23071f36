"""Checking the reconstructed book against Binance's own truth, at exactly matching update ids.

Two kinds of venue truth can appear in a recording:
- bookTicker: the venue's best bid/offer; its `u` is the order book update id of that state (spot and
  USD-M). It is compared with the book only when the book was exactly at update id `u`: after the
  snapshot with lastUpdateId == u, or after the depth diff whose final id is u. A bookTicker whose
  id falls strictly inside a diff's U..u range names a state the book never passes through (the diff
  applies the whole range at once), so it is counted as not comparable, never guessed.
- a REST depth snapshot that arrives while the book is already synchronised: compared level by level
  over the price range it covers, when the book is exactly at its lastUpdateId. A level the venue
  shows at a price that no input since the book's (re)synchronisation ever mentioned cannot be
  reconstructed by any correct book (Binance documents this: levels outside the initial snapshot that
  never change never appear in the diff stream), so it is counted as skipped, not as a mismatch.
  Every other difference, in either direction, is a mismatch.

States are kept in bounded windows, so memory stays flat on endless streams.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from adapters.binance.sync import DepthSnapshot
from core.book.interface import BookSide, L2Book, Level
from core.book.truth import TruthCheck
from core.marketdata.events import TopOfBookEvent
from core.marketdata.fixedpoint import format_fixed

DEFAULT_WINDOW = 200_000


@dataclass
class TruthCounts:
    tickers: int = 0
    tickers_inside_diff: int = 0  # id strictly inside a diff's U..u range: no such book state
    tickers_unsynced: int = 0  # before the first synchronisation or during a gap
    tickers_after_end: int = 0  # newer than the last book state when the data ended
    snapshots_compared: int = 0
    snapshots_not_comparable: int = 0  # the book was past (or never reached) the snapshot's id
    snapshot_levels_skipped: int = 0  # venue levels no input ever mentioned (see module docstring)
    skipped_examples: list[str] = field(default_factory=list)


class BookTruthChecker:
    """Feeds: every book state (after each applied snapshot/diff), every bookTicker, every REST
    snapshot seen while synchronised. Results accumulate in `check` (core.book.truth.TruthCheck)."""

    def __init__(
        self, check: TruthCheck, price_exponent: int, qty_exponent: int, window: int = DEFAULT_WINDOW
    ):
        self.check = check
        self.counts = TruthCounts()
        self._pe = price_exponent
        self._qe = qty_exponent
        self._window = window
        self._states: dict[int, tuple[Level | None, Level | None]] = {}  # update id -> (best bid, best ask)
        self._state_order: deque[int] = deque()
        self._pending: dict[int, TopOfBookEvent] = {}  # tickers newer than the book
        self._pending_order: deque[int] = deque()
        self._pending_snapshots: list[DepthSnapshot] = []
        self._last_id: int | None = None  # id of the latest book state
        self._prev_id: int | None = None  # id of the state before it, None right after a (re)sync
        self._seen_bids: set[int] = set()  # prices mentioned by any input since the last (re)sync
        self._seen_asks: set[int] = set()

    # -- inputs ---------------------------------------------------------------------------------
    def on_sync(self, bids: tuple[Level, ...], asks: tuple[Level, ...]) -> None:
        """The book was (re)synchronised from a snapshot holding these levels."""
        self._seen_bids = {p for p, _ in bids}
        self._seen_asks = {p for p, _ in asks}
        self._prev_id = None

    def on_levels(self, levels: tuple[tuple[BookSide, int, int], ...]) -> None:
        bids, asks = self._seen_bids, self._seen_asks
        for side, price, _ in levels:
            (bids if side == BookSide.BID else asks).add(price)

    def on_unsynced(self) -> None:
        """The book was discarded (gap): states until the next sync are unknown."""
        self._prev_id = None
        self._last_id = None

    def on_book_state(self, update_id: int, book: L2Book) -> None:
        """The book is now exactly at `update_id`."""
        bid, ask = book.best_bid(), book.best_ask()
        self._prev_id, self._last_id = self._last_id, update_id
        self._states[update_id] = (bid, ask)
        self._state_order.append(update_id)
        if len(self._state_order) > self._window:
            self._states.pop(self._state_order.popleft(), None)
        ticker = self._pending.pop(update_id, None)
        if ticker is not None:
            self._compare_ticker(ticker, bid, ask)
        self._expire_pending(update_id)
        if self._pending_snapshots:
            self._snapshots_at(update_id, book)

    def on_ticker(self, ticker: TopOfBookEvent) -> None:
        self.counts.tickers += 1
        state = self._states.get(ticker.venue_seq)
        if state is not None:
            self._compare_ticker(ticker, *state)
        elif self._last_id is None or ticker.venue_seq > self._last_id:
            self._pending[ticker.venue_seq] = ticker
            self._pending_order.append(ticker.venue_seq)
            if len(self._pending_order) > self._window:
                self._drop_pending(self._pending_order.popleft(), inside=False)
        elif self._state_order and ticker.venue_seq > self._state_order[0]:
            self.counts.tickers_inside_diff += 1
        else:
            self.counts.tickers_unsynced += 1

    def on_venue_snapshot(self, snap: DepthSnapshot, book: L2Book, synced: bool) -> None:
        """A REST snapshot while the book may be synchronised: compare now, later, or never."""
        if not synced or snap.last_update_id < book.update_id:
            self.counts.snapshots_not_comparable += 1
        elif snap.last_update_id == book.update_id:
            self._compare_snapshot(snap, book)
        else:
            self._pending_snapshots.append(snap)

    def finish(self) -> None:
        """End of data: whatever is still pending was never comparable."""
        self.counts.tickers_after_end += len(self._pending)
        self._pending.clear()
        self._pending_order.clear()
        self.counts.snapshots_not_comparable += len(self._pending_snapshots)
        self._pending_snapshots.clear()

    # -- comparisons ----------------------------------------------------------------------------
    def _compare_ticker(self, t: TopOfBookEvent, bid: Level | None, ask: Level | None) -> None:
        self.check.states_compared += 1
        self.check.levels_compared += 2
        bad = int(bid != (t.bid_price, t.bid_qty)) + int(ask != (t.ask_price, t.ask_qty))
        if bad:
            self.check.mismatch(
                f"update {t.venue_seq}: venue bid {self._lvl((t.bid_price, t.bid_qty))} "
                f"ask {self._lvl((t.ask_price, t.ask_qty))}; book bid {self._lvl(bid)} ask {self._lvl(ask)}",
                levels=bad,
            )

    def _expire_pending(self, update_id: int) -> None:
        order = self._pending_order
        while order and order[0] < update_id:
            self._drop_pending(order.popleft(), inside=self._prev_id is not None)

    def _drop_pending(self, venue_seq: int, inside: bool) -> None:
        if self._pending.pop(venue_seq, None) is None:
            return  # already compared
        if inside and self._prev_id is not None and venue_seq > self._prev_id:
            self.counts.tickers_inside_diff += 1
        else:
            self.counts.tickers_unsynced += 1

    def _snapshots_at(self, update_id: int, book: L2Book) -> None:
        keep = []
        for snap in self._pending_snapshots:
            if snap.last_update_id == update_id:
                self._compare_snapshot(snap, book)
            elif snap.last_update_id < update_id:
                self.counts.snapshots_not_comparable += 1
            else:
                keep.append(snap)
        self._pending_snapshots = keep

    def _compare_snapshot(self, snap: DepthSnapshot, book: L2Book) -> None:
        self.counts.snapshots_compared += 1
        self.check.states_compared += 1
        compared = bad = 0
        examples: list[str] = []
        for side, venue_levels, seen in (
            (BookSide.BID, snap.bids, self._seen_bids),
            (BookSide.ASK, snap.asks, self._seen_asks),
        ):
            if not venue_levels:
                continue
            venue = dict(venue_levels)
            prices = venue.keys()
            if side == BookSide.BID:
                edge = min(prices)
                ours = {p: q for p, q in book.depth(side) if p >= edge}
            else:
                edge = max(prices)
                ours = {p: q for p, q in book.depth(side) if p <= edge}
            ranked = sorted(venue, reverse=side == BookSide.BID)
            rank = {p: i + 1 for i, p in enumerate(ranked)}
            for price in sorted(venue.keys() | ours.keys()):
                v, o = venue.get(price), ours.get(price)
                if v == o:
                    compared += 1
                    continue
                where = f"{side.name.lower()} {format_fixed(price, self._pe)}"
                if o is None and price not in seen:
                    self.counts.snapshot_levels_skipped += 1
                    if len(self.counts.skipped_examples) < 10:
                        qty = format_fixed(v or 0, self._qe)
                        example = f"{where} (rank {rank[price]} of {len(ranked)}) qty {qty}"
                        self.counts.skipped_examples.append(example)
                    continue
                compared += 1
                bad += 1
                if len(examples) < 5:
                    vq = format_fixed(v, self._qe) if v is not None else "none"
                    oq = format_fixed(o, self._qe) if o is not None else "none"
                    examples.append(f"{where}: venue {vq}, book {oq}")
        self.check.levels_compared += compared
        if bad:
            self.check.mismatch(
                f"snapshot {snap.last_update_id}: {bad} levels differ: " + "; ".join(examples), levels=bad
            )

    def _lvl(self, level: Level | None) -> str:
        if level is None:
            return "none"
        return f"{format_fixed(level[0], self._pe)} x {format_fixed(level[1], self._qe)}"
