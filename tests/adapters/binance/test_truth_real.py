"""The reconstructed book against Binance's own bookTicker, on the real captures.

The number of comparable states comes from an oracle that reads the capture with plain json: a
bookTicker is comparable exactly when its update id is one the book rests at (the snapshot's
lastUpdateId or a diff's final id u).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.binance.sync import SyncRules
from core.marketdata.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    TopOfBookEvent,
)

from .conftest import book_state_ids


def _assert_unbroken_chain(raw, usdm: bool) -> None:
    ids = [d["u"] for d in raw.diffs]
    for prev, d in zip(raw.diffs, raw.diffs[1:], strict=False):
        assert (d["pu"] == prev["u"]) if usdm else (d["U"] == prev["u"] + 1)
    assert ids == sorted(ids)


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_book_equals_bookticker_at_every_comparable_state(market, request):
    replay = request.getfixturevalue(f"{market}_replay")
    raw = request.getfixturevalue(f"{market}_raw")
    usdm = market == "usdm"
    _assert_unbroken_chain(raw, usdm)
    state_ids = set(book_state_ids(raw, usdm))
    comparable = sum(1 for t in raw.tickers if t["u"] in state_ids)

    check = replay.check
    assert replay.bad_lines == 0, replay.bad_examples
    assert replay.sync.stats.gaps == 0
    assert replay.sync.synced
    assert comparable > 500  # the oracle found real work to do
    assert check.states_compared == comparable
    assert check.levels_compared == 2 * comparable
    assert check.states_mismatched == 0, check.first_mismatches
    assert check.levels_mismatched == 0
    assert check.ok
    # every bookTicker is accounted for: compared, or provably not at a state the book was in
    counts = replay.checker.counts
    assert counts.tickers == len(raw.tickers)
    accounted = counts.tickers_inside_diff + counts.tickers_unsynced + counts.tickers_after_end
    assert check.states_compared + accounted == len(raw.tickers)


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_events_follow_the_venue_sync_rules(market, request):
    replay = request.getfixturevalue(f"{market}_replay")
    raw = request.getfixturevalue(f"{market}_raw")
    events = replay.events
    snapshots = [e for e in events if isinstance(e, BookSnapshotEvent)]
    deltas = [e for e in events if isinstance(e, BookDeltaEvent)]
    assert len(snapshots) == 1 and snapshots[0].venue_seq == raw.snapshot_id
    L = raw.snapshot_id
    first = deltas[0]
    if replay.sync.rules is SyncRules.SPOT:
        assert first.first_venue_seq <= L + 1 <= first.venue_seq  # the venue's bridging rule
    else:
        assert first.first_venue_seq <= L <= first.venue_seq
    # each delta follows the previous state exactly: a consumer can detect any loss
    prev = L
    for d in deltas:
        assert d.prev_venue_seq == prev
        prev = d.venue_seq
    assert [d.venue_seq for d in deltas] == book_state_ids(raw, market == "usdm")[1:]
    feed = [e for e in events if isinstance(e, FeedStateEvent)]
    assert [e.status for e in feed] == [FeedStatus.OK]  # synchronised once, never a gap or a cross


def test_replaying_the_events_into_a_fresh_book_reproduces_the_client_book(usdm_replay):
    """What the md daemon publishes is enough to rebuild the venue's book downstream."""
    from core.book import BookSide, ReferenceL2Book

    book = ReferenceL2Book()
    for e in usdm_replay.events:
        if isinstance(e, BookSnapshotEvent):
            book.apply_snapshot(e.bids, e.asks, e.venue_seq)
        elif isinstance(e, BookDeltaEvent):
            book.apply_deltas(e.levels, e.venue_seq, e.prev_venue_seq)
    client_book = usdm_replay.sync.book
    assert book.update_id == client_book.update_id
    assert book.depth(BookSide.BID) == client_book.depth(BookSide.BID)
    assert book.depth(BookSide.ASK) == client_book.depth(BookSide.ASK)


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_trades_are_parsed_exactly(market, request):
    replay = request.getfixturevalue(f"{market}_replay")
    raw = request.getfixturevalue(f"{market}_raw")
    trades = [e for e in replay.events if hasattr(e, "aggressor")]
    assert len(trades) == len(raw.trades) > 1000
    inst = replay.client.instruments["BTCUSDT"]
    for event, venue in zip(trades[:500], raw.trades[:500], strict=True):
        assert event.trade_id == venue["t"]
        assert Decimal(event.price).scaleb(inst.price_exponent) == Decimal(venue["p"])
        assert Decimal(event.qty).scaleb(inst.qty_exponent) == Decimal(venue["q"])
        assert event.exchange_ts_ns == venue["T"] * 1_000_000
        assert event.aggressor.name == ("SELL" if venue["m"] else "BUY")  # m: the buyer was the maker
    assert not any(t.is_aggregate for t in trades)


def test_tickers_are_parsed_exactly(usdm_replay, usdm_raw):
    tickers = [e for e in usdm_replay.events if isinstance(e, TopOfBookEvent)]
    assert len(tickers) == len(usdm_raw.tickers)
    inst = usdm_replay.client.instruments["BTCUSDT"]
    for event, venue in zip(tickers[:300], usdm_raw.tickers[:300], strict=True):
        assert event.venue_seq == venue["u"]
        assert Decimal(event.bid_price).scaleb(inst.price_exponent) == Decimal(venue["b"])
        assert Decimal(event.ask_qty).scaleb(inst.qty_exponent) == Decimal(venue["A"])
