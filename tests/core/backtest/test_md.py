"""Market data as the harness publishes it: SBE messages with one sequence per instrument."""

from __future__ import annotations

from core.backtest.md import MdEncoder
from core.book import BookSide
from core.codec.messages import BookDelta, BookSnapshot, Side, Trade, decode
from core.marketdata.events import Aggressor, BookDeltaEvent, BookSnapshotEvent, TradeEvent

T = 1_700_000_000_000_000_000


def test_events_encode_with_one_sequence_per_instrument() -> None:
    md = MdEncoder()
    snap = BookSnapshotEvent(1, 7, T, T, ((100, 5), (99, 6)), ((101, 4),))
    d = BookDeltaEvent(1, 8, T + 1, T + 1, ((BookSide.BID, 100, 0), (BookSide.ASK, 102, 3)), 7)
    t = TradeEvent(1, 55, T + 2, T + 2, 101, 4, Aggressor.BUY)
    other = BookSnapshotEvent(2, 1, T, T, ((10, 1),), ((11, 1),))
    msgs = [decode(md.encode(e, T + 10)) for e in (snap, d, other, t)]
    assert [type(m) for m in msgs] == [BookSnapshot, BookDelta, BookSnapshot, Trade]
    assert [(m.instrumentId, m.seq) for m in msgs] == [(1, 1), (1, 2), (2, 1), (1, 3)]
    s, dd, _, tr = msgs
    assert (
        [(b.price, b.qty) for b in s.bids] == [(100, 5), (99, 6)]
        and s.venueSeq == 7
        and s.publishTs == T + 10
    )
    assert [(lv.side, lv.price, lv.qty) for lv in dd.levels] == [(1, 100, 0), (2, 102, 3)]
    assert (tr.tradeId, tr.price, tr.qty, tr.aggressorSide, tr.exchangeTs) == (55, 101, 4, Side.Buy, T + 2)
    assert md.messages == 4
