"""Both L2 implementations fed the real Binance USD-M events: identical after every event, and
internally consistent throughout."""

from __future__ import annotations

from core.book import BookSide, FastL2Book, ReferenceL2Book
from core.marketdata.events import BookDeltaEvent, BookSnapshotEvent

BID, ASK = BookSide.BID, BookSide.ASK


def test_reference_and_fast_books_agree_on_every_real_event(usdm_replay):
    ref, fast = ReferenceL2Book(102), FastL2Book(102)
    applied = 0
    for event in usdm_replay.events:
        if isinstance(event, BookSnapshotEvent):
            for book in (ref, fast):
                book.apply_snapshot(event.bids, event.asks, event.venue_seq)
        elif isinstance(event, BookDeltaEvent):
            for book in (ref, fast):
                book.apply_deltas(event.levels, event.venue_seq, event.prev_venue_seq)
            applied += 1
        else:
            continue
        assert fast.best_bid() == ref.best_bid() and fast.best_ask() == ref.best_ask()
        assert fast.update_id == ref.update_id
        if applied % 200 == 0:  # the reference's reads are O(levels) or worse: sample the rest
            assert fast.depth(BID) == ref.depth(BID) and fast.depth(ASK) == ref.depth(ASK)
            assert fast.mid() == ref.mid() and fast.spread() == ref.spread()
            assert fast.is_crossed() == ref.is_crossed() is False
            fast.check_invariants()
            ref.check_invariants()
    assert applied == usdm_replay.sync.stats.diffs_applied > 6000
    assert fast.depth(BID) == ref.depth(BID) and fast.depth(ASK) == ref.depth(ASK)
    fast.check_invariants()
    ref.check_invariants()
