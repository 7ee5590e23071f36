"""The oms's reference prices trust a book only from a snapshot on, and not across a sequence gap."""

from __future__ import annotations

from core.codec.messages import BookDelta, BookSnapshot, Trade, decode
from core.oms.reference import ReferenceFeed

INST = 1


def snapshot(seq: int, bid: int = 100, ask: int = 102) -> bytes:
    return BookSnapshot.encode_bytes(
        instrumentId=INST,
        seq=seq,
        venueSeq=0,
        exchangeTs=1,
        receiveTs=2,
        publishTs=3,
        bids=[(bid, 5, 1), (bid - 1, 5, 1)],
        asks=[(ask, 5, 1), (ask + 1, 5, 1)],
    )


def delta(seq: int, side: int, price: int, qty: int) -> bytes:
    return BookDelta.encode_bytes(
        instrumentId=INST,
        seq=seq,
        venueSeq=0,
        exchangeTs=1,
        receiveTs=2,
        publishTs=3,
        levels=[(side, price, qty, 1)],
    )


def trade(seq: int) -> bytes:
    return Trade.encode_bytes(
        instrumentId=INST,
        seq=seq,
        tradeId=1,
        exchangeTs=1,
        receiveTs=2,
        publishTs=3,
        price=101,
        qty=1,
        aggressorSide=1,
    )


def test_deltas_before_the_first_snapshot_give_no_reference() -> None:
    feed = ReferenceFeed()
    assert feed.on_market_data(delta(1, 1, 150, 3)) is None  # a partial book's top is not the market's
    assert feed.unsynced == 1
    ref = feed.on_market_data(snapshot(2))
    assert ref is not None and decode(ref).bids[0].price == 100


def test_a_sequence_gap_drops_the_book_until_the_next_snapshot() -> None:
    feed = ReferenceFeed()
    feed.on_market_data(snapshot(1))
    assert feed.on_market_data(trade(2)) is None  # trades take sequence numbers too
    ref = feed.on_market_data(delta(3, 1, 101, 4))  # in sequence: bid 101, the mid moved
    assert ref is not None and decode(ref).bids[0].price == 101
    assert feed.on_market_data(delta(5, 1, 101, 0)) is None  # 4 is missing: not applied
    assert feed.gaps == 1 and feed.unsynced == 1
    assert feed.on_market_data(delta(6, 2, 110, 1)) is None  # still waiting for a snapshot
    ref = feed.on_market_data(snapshot(7, bid=90, ask=92))
    assert ref is not None and decode(ref).asks[0].price == 92
    assert feed.on_market_data(delta(8, 2, 91, 2)) is not None  # trusted again


def test_forget_makes_the_same_mid_a_reference_again() -> None:
    feed = ReferenceFeed()
    assert feed.on_market_data(snapshot(1)) is not None
    assert feed.on_market_data(snapshot(2)) is None  # same mid
    feed.forget(INST)  # the last one was not used (the WAL could not take it)
    assert feed.on_market_data(snapshot(3)) is not None
