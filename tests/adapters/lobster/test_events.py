"""Normalized events from a LOBSTER replay: applied to an L2 book they give LOBSTER's orderbook rows;
trades carry the aggressor derived from the direction column."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from adapters.lobster import LobsterDataClient, LobsterDataConfig
from core.book import BookSide, FastL2Book
from core.marketdata.events import (
    Aggressor,
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    TradeEvent,
)

from .conftest import AAPL, GOOG, epoch_ns, write_pair

EMPTY = 9_999_999_999


def _truth_levels(row: list[int], level: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    bids = [(row[4 * k + 2], row[4 * k + 3]) for k in range(level) if row[4 * k + 2] != -EMPTY]
    asks = [(row[4 * k], row[4 * k + 1]) for k in range(level) if row[4 * k] != EMPTY]
    return bids, asks


# (sample, level, static instrument id, messages replayed: a real prefix, enough for every event kind)
CASES = [(AAPL, 1, 202, 40_000), (GOOG, 10, 201, 25_000)]


@pytest.mark.parametrize(("sample", "level", "instrument_id", "prefix"), CASES, ids=["AAPL", "GOOG"])
def test_events_rebuild_every_orderbook_row(
    tmp_path: Path, shared_data: Path, sample: str, level: int, instrument_id: int, prefix: int
) -> None:
    with zipfile.ZipFile(shared_data / "lobster" / sample) as zf:
        names = zf.namelist()
        msg_name = next(n for n in names if "_message_" in n)
        book_name = next(n for n in names if "_orderbook_" in n)
        messages = zf.read(msg_name).decode().splitlines()[:prefix]
        rows_text = zf.read(book_name).decode().splitlines()[:prefix]
    rows = [[int(x) for x in r.split(",")] for r in rows_text]
    client = LobsterDataClient(LobsterDataConfig(str(write_pair(tmp_path, msg_name, messages, rows_text))))
    assert client.instrument.id == instrument_id

    l2 = FastL2Book(instrument_id)
    trades: list[TradeEvent] = []
    states: list[FeedStateEvent] = []
    applied = 0
    for event in client.events():
        if isinstance(event, BookSnapshotEvent):
            l2.apply_snapshot(event.bids, event.asks, event.venue_seq)
        elif isinstance(event, BookDeltaEvent):
            # Raises SequenceGapError if any delta did not follow the one before.
            l2.apply_deltas(event.levels, event.venue_seq, event.prev_venue_seq)
        elif isinstance(event, TradeEvent):
            trades.append(event)
            continue
        else:
            states.append(event)
            continue
        bids, asks = _truth_levels(rows[event.venue_seq - 1], level)  # the state after that message
        assert l2.depth(BookSide.BID) == bids, event.venue_seq
        assert l2.depth(BookSide.ASK) == asks, event.venue_seq
        applied += 1
    assert applied > prefix // 2

    executions = [(i + 1, m.split(",")) for i, m in enumerate(messages) if m.split(",")[1] in ("4", "5")]
    assert len(trades) == len(executions)
    for trade, (index, cells) in zip(trades, executions, strict=True):
        assert trade.trade_id == index and trade.instrument_id == instrument_id
        assert (trade.price, trade.qty) == (int(cells[4]), int(cells[3]))
        assert trade.exchange_ts_ns == epoch_ns(cells[0])
        # An execution of a sell limit order (-1) is a buyer-initiated trade.
        assert trade.aggressor == (Aggressor.BUY if cells[5] == "-1" else Aggressor.SELL)
    assert {t.aggressor for t in trades} == {Aggressor.BUY, Aggressor.SELL}
    assert [s.status for s in states] == [FeedStatus.ENDED]
