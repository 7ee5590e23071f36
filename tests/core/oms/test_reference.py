"""The host's reference feed: the md stream in, one top-of-book snapshot per mid change out."""

from __future__ import annotations

from core.codec.messages import BookDelta, BookSnapshot, Trade, decode
from core.oms.fees import FeeSchedule, venue_ids
from core.oms.reference import ReferenceFeed
from core.sim.config import load_venues
from tests.core.oms.harness import BTC, Desk, config


def snapshot(bids, asks, seq=1) -> bytes:
    return BookSnapshot.encode_bytes(
        instrumentId=BTC,
        seq=seq,
        venueSeq=0,
        exchangeTs=5,
        receiveTs=6,
        publishTs=7,
        bids=[(p, q, 1) for p, q in bids],
        asks=[(p, q, 1) for p, q in asks],
    )


def delta(levels, seq) -> bytes:
    return BookDelta.encode_bytes(
        instrumentId=BTC,
        seq=seq,
        venueSeq=0,
        exchangeTs=5,
        receiveTs=6,
        publishTs=7,
        levels=[(s, p, q, 1) for s, p, q in levels],
    )


def test_only_mid_changes_make_references_and_the_engine_takes_them():
    feed = ReferenceFeed()
    ref = feed.on_market_data(snapshot([(100, 5), (99, 5)], [(102, 5), (103, 5)]))
    m = decode(ref)
    assert isinstance(m, BookSnapshot) and [(e.price, e.qty) for e in m.bids] == [(100, 5)]
    assert [(e.price, e.qty) for e in m.asks] == [(102, 5)]
    assert feed.on_market_data(delta([(1, 99, 7)], 2)) is None  # below the top: the mid did not move
    assert feed.on_market_data(delta([(1, 100, 9)], 3)) is None  # size at the top: same mid
    ref = feed.on_market_data(delta([(1, 100, 0)], 4))  # best bid gone: bid 99, mid 100.5
    assert decode(ref).bids[0].price == 99
    assert feed.on_market_data(delta([(1, 103, 1)], 5)) is None  # crossed: no reference
    assert (
        feed.on_market_data(
            Trade.encode_bytes(
                instrumentId=BTC,
                seq=6,
                tradeId=1,
                exchangeTs=0,
                receiveTs=0,
                publishTs=0,
                price=1,
                qty=1,
                aggressorSide=1,
            )
        )
        is None
    )
    assert feed.ignored == 1
    d = Desk(config())
    d.send(ref)
    assert d.engine.risk.mid2[BTC] == 99 + 102


def test_fees_and_venue_ids_from_venues_toml():
    venues = load_venues()
    ids = venue_ids(venues)
    assert ids["sim"] == 1
    fees = FeeSchedule.from_venues(venues)
    sim = venues.get("sim").sim
    assert fees.bps(ids["sim"], maker=True) == sim.maker_fee_bps
    assert fees.bps(ids["sim"], maker=False) == sim.taker_fee_bps
    assert fees.bps(999, maker=False) == 0
