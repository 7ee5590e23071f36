"""The real Binance spot capture (depth diffs, trades, one REST snapshot) replayed through the sim venue:
taker orders walk the real book, passive orders queue behind the real displayed size and fill only
when real trades or the real book reach them. After a feed gap the venue offers no market liquidity
until the next snapshot."""

from __future__ import annotations

from collections import defaultdict

import pytest

from adapters.binance.replay import replay_file
from core.book import BookSide, FastL2Book
from core.codec.messages import OrdStatus, Side, TimeInForce
from core.instruments import load_instruments
from core.marketdata.events import (
    Aggressor,
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    TradeEvent,
)
from core.sim import Liquidity, NewOrderRequest, OrderExpired, OrderFilled, SimVenue, SimVenueConfig

CAPTURE = "binance-ws-capture-hftbacktest/spot/btcusdt_20240808.gz"


@pytest.fixture(scope="module")
def events(shared_data):
    r = replay_file(shared_data / CAPTURE, keep_events=True)
    assert r.symbol == "BTCUSDT" and r.events
    return r.events


def test_binance_spot_capture_through_the_sim_venue(events):
    inst = load_instruments().by_id(101)
    venue = SimVenue([inst], SimVenueConfig())  # no latency: orders act on the book as the test saw it
    engine = venue.engine(inst.id)
    book = FastL2Book(inst.id)  # an independent copy of the real book
    synced = False
    cl = 0
    passive: dict[int, int] = {}  # venue order id -> last seen queue ahead
    first_fill_cause: dict[int, object] = {}
    taker_checked = 0
    fills: list[OrderFilled] = []

    for i, ev in enumerate(events):
        venue.on_market(ev)
        if isinstance(ev, BookSnapshotEvent):
            book.apply_snapshot(ev.bids, ev.asks, ev.venue_seq)
            synced = True
        elif isinstance(ev, BookDeltaEvent):
            book.apply_deltas(ev.levels)
        elif isinstance(ev, FeedStateEvent) and ev.status == FeedStatus.GAP:
            synced = False
        now = venue.now
        for r in venue.poll_reports(now):
            if isinstance(r, OrderFilled):
                fills.append(r)
                if r.venue_order_id in passive and r.venue_order_id not in first_fill_cause:
                    first_fill_cause[r.venue_order_id] = (ev, book.best_ask())
        # Queue positions only ever improve.
        for oid, ahead in list(passive.items()):
            o = engine.order(oid)
            if o is None or not o.resting:
                del passive[oid]
                continue
            assert o.ahead <= ahead
            passive[oid] = o.ahead
        if not synced or i % 40:
            continue
        # Every 40 events while the book is synchronised: a passive bid at the real best bid, and a
        # taker IOC through three ask ticks.
        bid, ask = book.best_bid(), book.best_ask()
        cl += 1
        venue.submit(
            NewOrderRequest(
                instrument_id=inst.id, cl_ord_id=cl, side=Side.Buy, qty=1000, price=bid[0], account_id=1
            ),
            now,
        )
        cl += 1
        limit = ask[0] + 3
        venue.submit(
            NewOrderRequest(
                instrument_id=inst.id, cl_ord_id=cl, side=Side.Buy, qty=50_000, price=limit,
                tif=TimeInForce.IOC, account_id=2,
            ),
            now,
        )  # fmt: skip
        reports = venue.poll_reports(now)
        bid_id = reports[0].venue_order_id
        assert engine.order(bid_id).ahead == bid[1]  # behind all the displayed size at that price
        passive[bid_id] = bid[1]
        taker = [r for r in reports if isinstance(r, OrderFilled) and r.cl_ord_id == cl]
        real_levels = dict(book.depth(BookSide.ASK, 10))
        prices = [f.last_px for f in taker]
        assert prices == sorted(prices) and all(p <= limit for p in prices)
        for f in taker:
            assert f.liquidity == Liquidity.TAKER and f.last_qty <= real_levels[f.last_px]
        assert sum(f.last_qty for f in taker) <= sum(q for p, q in real_levels.items() if p <= limit)
        taker_checked += bool(taker)
        fills += [r for r in reports if isinstance(r, OrderFilled)]

    assert taker_checked > 10
    # With the book lost to a feed gap, a marketable order finds no market liquidity.
    gap = FeedStateEvent(inst.id, venue.now, FeedStatus.GAP, 1, 3, 1, "test gap")
    venue.on_market(gap)
    cl += 1
    venue.submit(
        NewOrderRequest(
            instrument_id=inst.id, cl_ord_id=cl, side=Side.Buy, qty=1000,
            price=book.best_ask()[0] + 1000, tif=TimeInForce.IOC, account_id=3,
        ),
        venue.now,
    )  # fmt: skip
    after_gap = venue.poll_reports(venue.now)
    assert [type(r) for r in after_gap][-1] is OrderExpired and not any(
        isinstance(r, OrderFilled) for r in after_gap
    )
    # Passive bids filled; each first fill came from a real sell trade at or through the bid, or from
    # the real offer coming down to the bid.
    assert len(first_fill_cause) > 5
    by_trade = 0
    for oid, (cause, best_ask) in first_fill_cause.items():
        o = engine.order(oid)
        if isinstance(cause, TradeEvent):
            assert cause.aggressor == Aggressor.SELL and cause.price <= o.price
            by_trade += 1
        else:
            assert isinstance(cause, BookDeltaEvent) and best_ask[0] <= o.price
    assert by_trade > 0
    maker = [f for f in fills if f.liquidity == Liquidity.MAKER]
    assert maker and all(f.last_px == f.price and f.contra_venue_order_id == 0 for f in maker)
    per_order: dict[int, int] = defaultdict(int)
    for f in fills:
        per_order[f.venue_order_id] += f.last_qty
        assert f.cum_qty == per_order[f.venue_order_id] and f.leaves_qty >= 0
        assert f.ord_status in (OrdStatus.PartiallyFilled, OrdStatus.Filled)
