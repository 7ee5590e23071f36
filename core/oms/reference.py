"""The engine's reference prices from the market-data stream, for the host.

The md daemon publishes full books (BookSnapshot) and changes (BookDelta); the engine only needs each
instrument's best bid and ask, and every reference it uses must be in its WAL. ReferenceFeed keeps a
book per instrument and, when the top of book changes the mid, returns a one-level BookSnapshot: the
host journals that and applies it to the engine. So the WAL holds exactly the references the engine
used (one per mid change), not the whole feed. Crossed or one-sided books give no reference.

A book is trusted only from a BookSnapshot on: deltas before the first snapshot of an instrument, or
after a gap in its md sequence (snapshots, deltas and trades share one per-instrument sequence), would
build a partial book whose top is not the market's, so they are dropped (counted in `unsynced`) until
the next snapshot (the md daemon republishes them periodically). The engine keeps the last reference
it was given meanwhile.
"""

from __future__ import annotations

from core.book import BookSide, FastL2Book, L2Book
from core.codec.messages import BookDelta, BookSnapshot, Trade, decode
from core.oms import wire


class ReferenceFeed:
    def __init__(self) -> None:
        self.books: dict[int, L2Book] = {}
        self.mid2: dict[int, int] = {}
        self.seq: dict[int, int] = {}  # last md sequence number seen per instrument
        self.synced: set[int] = set()  # instruments whose book was built from a snapshot, gap free since
        self.ignored = 0  # messages that were not market data the feed understands
        self.unsynced = 0  # deltas dropped: no snapshot yet, or after a sequence gap
        self.gaps = 0

    def on_market_data(self, payload: bytes | memoryview) -> bytes | None:
        """A top-of-book BookSnapshot to journal and apply when the mid moved, else None."""
        try:
            m = decode(payload)
        except Exception:
            self.ignored += 1
            return None
        if isinstance(m, BookSnapshot):
            inst = m.instrumentId
            self.seq[inst] = m.seq
            book = self._book(inst)
            book.apply_snapshot([(e.price, e.qty) for e in m.bids], [(e.price, e.qty) for e in m.asks], m.seq)
            self.synced.add(inst)
        elif isinstance(m, BookDelta):
            inst = m.instrumentId
            if not self._in_sequence(inst, m.seq):
                self.unsynced += 1
                return None
            book = self._book(inst)
            for e in m.levels:
                book.apply_delta(BookSide(int(e.side)), e.price, e.qty)
        else:
            if isinstance(m, Trade):
                self._in_sequence(m.instrumentId, m.seq)  # trades take a number of the sequence too
            self.ignored += 1
            return None
        return self._reference(m.instrumentId, m.exchangeTs, m.receiveTs, m.publishTs, m.seq)

    def forget(self, instrument_id: int) -> None:
        """The reference last returned for this instrument was not used: return the next one again."""
        self.mid2.pop(instrument_id, None)

    def _in_sequence(self, inst: int, seq: int) -> bool:
        """Whether the instrument's book is trustworthy after this message (sequence seen, no gap)."""
        last = self.seq.get(inst)
        self.seq[inst] = seq
        if inst not in self.synced:
            return False
        if last is not None and seq != last + 1:
            self.gaps += 1
            self.synced.discard(inst)
            self.books.pop(inst, None)
            return False
        return True

    def _book(self, instrument_id: int) -> L2Book:
        book = self.books.get(instrument_id)
        if book is None:
            book = self.books[instrument_id] = FastL2Book(instrument_id)
        return book

    def _reference(
        self, inst: int, exchange_ts: int, receive_ts: int, publish_ts: int, seq: int
    ) -> bytes | None:
        book = self.books[inst]
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None or bid[0] >= ask[0]:
            return None
        mid2 = bid[0] + ask[0]
        if self.mid2.get(inst) == mid2:
            return None
        self.mid2[inst] = mid2
        return wire.book_snapshot(
            instrumentId=inst,
            seq=seq,
            venueSeq=0,
            exchangeTs=exchange_ts,
            receiveTs=receive_ts,
            publishTs=publish_ts,
            bids=[(bid[0], bid[1], 0)],
            asks=[(ask[0], ask[1], 0)],
        )
