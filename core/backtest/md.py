"""Market data as the md daemon publishes it: normalized events (core/marketdata/events.py) encoded as
SBE BookSnapshot / BookDelta / Trade / FeedState, with the md's own per-instrument `seq` (one sequence
over every message of the instrument, from 1: the convention the strategy host and the oms's
ReferenceFeed check for gaps) and `publishTs`.
"""

from __future__ import annotations

from core.codec.messages import BookDelta, BookSnapshot, FeedState, Trade
from core.marketdata.events import BookDeltaEvent, BookSnapshotEvent, FeedStateEvent, MarketEvent, TradeEvent


class MdEncoder:
    def __init__(self) -> None:
        self._seq: dict[int, int] = {}
        self.messages = 0

    def _next_seq(self, instrument_id: int) -> int:
        s = self._seq.get(instrument_id, 0) + 1
        self._seq[instrument_id] = s
        return s

    def encode(self, e: MarketEvent, publish_ts: int) -> bytes | None:
        """The SBE message of one event (None for event kinds the md stream does not carry)."""
        if isinstance(e, BookDeltaEvent):
            payload = BookDelta.encode_bytes(
                instrumentId=e.instrument_id,
                seq=self._next_seq(e.instrument_id),
                venueSeq=e.venue_seq,
                exchangeTs=e.exchange_ts_ns,
                receiveTs=e.receive_ts_ns,
                publishTs=publish_ts,
                levels=[(int(side), price, qty, 0) for side, price, qty in e.levels],
            )
        elif isinstance(e, TradeEvent):
            payload = Trade.encode_bytes(
                instrumentId=e.instrument_id,
                seq=self._next_seq(e.instrument_id),
                tradeId=e.trade_id,
                exchangeTs=e.exchange_ts_ns,
                receiveTs=e.receive_ts_ns,
                publishTs=publish_ts,
                price=e.price,
                qty=e.qty,
                aggressorSide=int(e.aggressor),
            )
        elif isinstance(e, BookSnapshotEvent):
            payload = BookSnapshot.encode_bytes(
                instrumentId=e.instrument_id,
                seq=self._next_seq(e.instrument_id),
                venueSeq=e.venue_seq,
                exchangeTs=e.exchange_ts_ns,
                receiveTs=e.receive_ts_ns,
                publishTs=publish_ts,
                bids=[(p, q, 0) for p, q in e.bids],
                asks=[(p, q, 0) for p, q in e.asks],
            )
        elif isinstance(e, FeedStateEvent):
            payload = FeedState.encode_bytes(
                instrumentId=e.instrument_id,
                ts=e.ts_ns,
                status=int(e.status),
                expectedSeq=e.expected_seq,
                receivedSeq=e.received_seq,
                gapCount=e.gap_count,
                text=e.text,
            )
        else:
            return None
        self.messages += 1
        return payload
