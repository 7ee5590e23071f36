"""Normalized market-data events: what every venue adapter emits, whatever the venue's format.

Prices and quantities are int mantissas at the instrument's exponents; timestamps are int epoch ns
(0 = the venue did not say). The md daemon encodes these to the SBE BookSnapshot, BookDelta, Trade
and FeedState messages of core/codec/schema/aerodesk.xml (it adds its own `seq` and `publishTs`);
TopOfBookEvent has no bus message: it is the venue's own best bid/offer, used as truth.

Applying a BookSnapshotEvent and then every BookDeltaEvent in order to an `L2Book` reproduces the
venue's book: `book.apply_deltas(e.levels, e.venue_seq, e.prev_venue_seq)` also detects any gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from core.book.interface import Level, LevelUpdate


class Aggressor(IntEnum):
    """Side of the taker in a trade. Values match the Side enum of the SBE schema."""

    BUY = 1  # the buyer took liquidity (lifted an ask)
    SELL = 2  # the seller took liquidity (hit a bid)


class FeedStatus(IntEnum):
    """Health of one instrument's book feed. Values match the FeedStatus enum of the SBE schema."""

    OK = 1  # book synchronised with the venue
    GAP = 2  # updates were lost: the book is discarded until resynchronised
    RESYNCING = 3  # waiting for a snapshot that bridges the buffered updates
    STALE = 4  # a snapshot was too old to bridge the buffered updates
    CROSSED = 5  # best bid >= best ask after a complete update
    ENDED = 6  # the source ended (end of file)


@dataclass(frozen=True, slots=True)
class BookSnapshotEvent:
    """The full book at venue update id `venue_seq`: replaces whatever the consumer held."""

    instrument_id: int
    venue_seq: int  # venue's update id of this state (Binance: lastUpdateId)
    exchange_ts_ns: int
    receive_ts_ns: int
    bids: tuple[Level, ...]  # best first
    asks: tuple[Level, ...]  # best first


@dataclass(frozen=True, slots=True)
class BookDeltaEvent:
    """Changed levels taking the book from update id `prev_venue_seq` to `venue_seq`."""

    instrument_id: int
    venue_seq: int  # venue's final update id after this batch (Binance: u)
    exchange_ts_ns: int
    receive_ts_ns: int
    levels: tuple[LevelUpdate, ...]  # (side, price, new absolute qty); qty 0 deletes the level
    prev_venue_seq: int  # update id the book must be at before applying (the previous event's venue_seq)
    first_venue_seq: int = 0  # venue's first update id in this batch (Binance: U), informational


@dataclass(frozen=True, slots=True)
class TradeEvent:
    instrument_id: int
    trade_id: int  # venue's trade id (aggregate trade id when is_aggregate)
    exchange_ts_ns: int  # trade time
    receive_ts_ns: int
    price: int
    qty: int
    aggressor: Aggressor
    is_aggregate: bool = False  # one event for several fills of one taker order at one price


@dataclass(frozen=True, slots=True)
class TopOfBookEvent:
    """The venue's own best bid and offer at update id `venue_seq` (Binance bookTicker)."""

    instrument_id: int
    venue_seq: int
    exchange_ts_ns: int
    receive_ts_ns: int
    bid_price: int
    bid_qty: int
    ask_price: int
    ask_qty: int


@dataclass(frozen=True, slots=True)
class FeedStateEvent:
    """A change of feed health (SBE FeedState): gaps, resyncs, crossed books, end of data."""

    instrument_id: int
    ts_ns: int
    status: FeedStatus
    expected_seq: int = 0  # update id the book was at (or expected) when this happened
    received_seq: int = 0  # update id that revealed it
    gap_count: int = 0  # gaps so far on this instrument
    text: str = ""


MarketEvent = BookSnapshotEvent | BookDeltaEvent | TradeEvent | TopOfBookEvent | FeedStateEvent
