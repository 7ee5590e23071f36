"""The venue's book-sync rules, one rule per test, on small hand-built event sequences."""

from __future__ import annotations

import pytest

from adapters.binance.sync import BookSync, DepthDiff, DepthSnapshot, SyncRules, SyncState
from core.book import BookSide, FastL2Book, ReferenceL2Book
from core.marketdata.events import BookDeltaEvent, BookSnapshotEvent, FeedStateEvent, FeedStatus

BID, ASK = BookSide.BID, BookSide.ASK


def diff(first, final, pu=None, levels=((BID, 100, 1),)):
    return DepthDiff(first, final, pu, exchange_ts_ns=final, receive_ts_ns=final, levels=tuple(levels))


def snap(last, bids=((100, 5),), asks=((102, 5),), chained=False):
    return DepthSnapshot(last, 0, 0, tuple(bids), tuple(asks), chained=chained)


def kinds(events):
    return [type(e).__name__ if not isinstance(e, FeedStateEvent) else e.status.name for e in events]


@pytest.fixture(params=[FastL2Book, ReferenceL2Book], ids=["fast", "reference"])
def book_cls(request):
    return request.param


# -- spot ----------------------------------------------------------------------------------------------
def test_spot_buffers_until_the_snapshot_then_bridges_with_u_plus_one(book_cls):
    s = BookSync(1, SyncRules.SPOT, book=book_cls())
    assert s.on_diff(diff(90, 95)) == []  # all stale once the snapshot (100) arrives
    assert s.on_diff(diff(96, 103, levels=[(BID, 101, 3)])) == []  # straddles lastUpdateId+1 = 101
    assert s.on_diff(diff(104, 110, levels=[(ASK, 102, 0), (ASK, 103, 7)])) == []
    assert s.needs_snapshot and s.buffered == 3
    events = s.on_snapshot(snap(100))
    assert kinds(events) == ["BookSnapshotEvent", "OK", "BookDeltaEvent", "BookDeltaEvent"]
    assert s.synced and s.book.update_id == 110
    assert s.stats.diffs_dropped_stale == 1 and s.stats.diffs_applied == 2
    deltas = [e for e in events if isinstance(e, BookDeltaEvent)]
    assert [(d.prev_venue_seq, d.venue_seq) for d in deltas] == [(100, 103), (103, 110)]
    assert s.book.best_bid() == (101, 3) and s.book.best_ask() == (103, 7)


def test_spot_diff_ending_at_the_snapshot_id_is_stale(book_cls):
    s = BookSync(1, SyncRules.SPOT, book=book_cls())
    s.on_diff(diff(95, 100, levels=[(BID, 100, 99)]))  # u == lastUpdateId: already in the snapshot
    events = s.on_snapshot(snap(100))
    assert kinds(events) == ["BookSnapshotEvent", "OK"]
    assert s.book.qty_at(BID, 100) == 5 and s.stats.diffs_dropped_stale == 1


def test_spot_gap_discards_the_book_and_waits_for_a_new_snapshot(book_cls):
    s = BookSync(1, SyncRules.SPOT, book=book_cls())
    s.on_snapshot(snap(100))
    s.on_diff(diff(101, 105))
    events = s.on_diff(diff(107, 110))  # 106 lost
    assert kinds(events) == ["GAP"]
    gap = events[0]
    assert (gap.expected_seq, gap.received_seq, gap.gap_count) == (106, 107, 1)
    assert s.state is SyncState.WAITING_SNAPSHOT and s.needs_snapshot
    assert s.book.best_bid() is None  # discarded, never shown stale
    assert s.on_diff(diff(111, 115)) == []  # buffered again
    events = s.on_snapshot(snap(108))
    assert kinds(events) == ["BookSnapshotEvent", "OK", "BookDeltaEvent", "BookDeltaEvent"]
    assert s.book.update_id == 115 and s.stats.gaps == 1 and s.stats.resyncs == 1


def test_spot_snapshot_too_old_for_the_buffer_is_refused(book_cls):
    s = BookSync(1, SyncRules.SPOT, book=book_cls())
    s.on_diff(diff(200, 210))
    events = s.on_snapshot(snap(150))  # 151..199 would be missing
    assert kinds(events) == ["STALE"]
    assert s.needs_snapshot and s.stats.snapshots_stale == 1 and s.buffered == 1
    events = s.on_snapshot(snap(199))  # bridges exactly: U == lastUpdateId + 1
    assert kinds(events) == ["BookSnapshotEvent", "OK", "BookDeltaEvent"]


def test_spot_rejects_a_usdm_style_chain_only_through_ids():
    # Spot ignores pu entirely: continuity is U == previous u + 1.
    s = BookSync(1, SyncRules.SPOT)
    s.on_snapshot(snap(10))
    assert kinds(s.on_diff(diff(11, 12, pu=999))) == ["BookDeltaEvent"]


# -- USD-M ----------------------------------------------------------------------------------------------
def test_usdm_first_event_must_straddle_the_snapshot_id_then_pu_chains(book_cls):
    s = BookSync(2, SyncRules.USDM, book=book_cls())
    s.on_diff(diff(80, 90, pu=70))  # u < lastUpdateId: dropped
    s.on_diff(diff(95, 100, pu=90))  # u == lastUpdateId: processed (U <= 100 <= u)
    s.on_diff(diff(104, 120, pu=100, levels=[(ASK, 101, 4)]))
    events = s.on_snapshot(snap(100))
    assert kinds(events) == ["BookSnapshotEvent", "OK", "BookDeltaEvent", "BookDeltaEvent"]
    assert s.stats.diffs_dropped_stale == 1
    assert s.book.update_id == 120 and s.book.best_ask() == (101, 4)
    assert kinds(s.on_diff(diff(125, 130, pu=120))) == ["BookDeltaEvent"]


def test_usdm_broken_pu_chain_is_a_gap(book_cls):
    s = BookSync(2, SyncRules.USDM, book=book_cls())
    s.on_snapshot(snap(100))
    s.on_diff(diff(95, 105, pu=94))
    events = s.on_diff(diff(112, 118, pu=110))  # the event ending at 110 was lost
    assert kinds(events) == ["GAP"]
    assert (events[0].expected_seq, events[0].received_seq) == (105, 110)
    assert s.needs_snapshot and s.book.best_bid() is None


def test_usdm_first_event_starting_after_the_snapshot_is_a_gap():
    s = BookSync(2, SyncRules.USDM)
    s.on_snapshot(snap(100))
    events = s.on_diff(diff(101, 110, pu=100))  # U > lastUpdateId: the venue says start over
    assert kinds(events) == ["GAP"]


def test_usdm_old_duplicate_is_ignored_not_a_gap():
    s = BookSync(2, SyncRules.USDM)
    s.on_snapshot(snap(100))
    s.on_diff(diff(95, 105, pu=94))
    s.on_diff(diff(106, 110, pu=105))
    assert s.on_diff(diff(106, 110, pu=105)) == []  # the same event again
    assert s.stats.gaps == 0 and s.stats.diffs_dropped_stale == 1 and s.book.update_id == 110


def test_usdm_snapshot_newer_than_nothing_buffered_is_stale_when_it_cannot_bridge():
    s = BookSync(2, SyncRules.USDM)
    s.on_diff(diff(200, 210, pu=190))
    assert kinds(s.on_snapshot(snap(199))) == ["STALE"]  # first event's U must be <= lastUpdateId
    assert kinds(s.on_snapshot(snap(205))) == ["BookSnapshotEvent", "OK", "BookDeltaEvent"]


# -- chained (recorded) snapshots, buffering, crossing ---------------------------------------------------
@pytest.mark.parametrize(
    ("rules", "good", "bad"),
    [
        (SyncRules.SPOT, diff(101, 104), diff(100, 104)),
        (SyncRules.USDM, diff(103, 104, pu=100), diff(99, 104, pu=97)),
    ],
)
def test_chained_snapshot_needs_the_exact_next_diff(rules, good, bad):
    s = BookSync(3, rules)
    s.on_snapshot(snap(100, chained=True))
    assert kinds(s.on_diff(good)) == ["BookDeltaEvent"]
    s2 = BookSync(3, rules)
    s2.on_snapshot(snap(100, chained=True))
    result = kinds(s2.on_diff(bad))
    assert result == (["BookDeltaEvent"] if rules is SyncRules.SPOT else ["GAP"])


def test_buffer_is_bounded_and_counts_overflows():
    s = BookSync(4, SyncRules.SPOT, max_buffered=3)
    for i in range(5):
        s.on_diff(diff(10 * i + 1, 10 * i + 10))
    assert s.buffered == 3 and s.stats.buffer_overflows == 2
    # the oldest were dropped: a snapshot at 5 can no longer bridge to the first kept diff (21)
    assert kinds(s.on_snapshot(snap(5))) == ["STALE"]


def test_crossed_book_is_reported_once_and_cleared():
    s = BookSync(5, SyncRules.SPOT)
    s.on_snapshot(snap(1, bids=[(100, 1)], asks=[(101, 1)]))
    events = s.on_diff(diff(2, 2, levels=[(BID, 101, 1)]))
    assert kinds(events) == ["BookDeltaEvent", "CROSSED"]
    assert kinds(s.on_diff(diff(3, 3, levels=[(BID, 100, 2)]))) == ["BookDeltaEvent"]  # still crossed
    assert kinds(s.on_diff(diff(4, 4, levels=[(BID, 101, 0)]))) == ["BookDeltaEvent", "OK"]
    assert s.stats.crossed_states == 2


def test_snapshot_while_synchronised_is_ignored():
    s = BookSync(6, SyncRules.SPOT)
    s.on_snapshot(snap(10))
    assert s.on_snapshot(snap(20, bids=[(1, 1)])) == []
    assert s.stats.snapshots_ignored == 1 and s.book.best_bid() == (100, 5)


def test_snapshot_event_lists_levels_best_first():
    s = BookSync(7, SyncRules.SPOT)
    events = s.on_snapshot(snap(10, bids=[(99, 1), (100, 2)], asks=[(103, 1), (102, 2)]))
    e = events[0]
    assert isinstance(e, BookSnapshotEvent)
    assert e.bids == ((100, 2), (99, 1)) and e.asks == ((102, 2), (103, 1))
    assert e.instrument_id == 7 and e.venue_seq == 10
    assert events[1].status is FeedStatus.OK
