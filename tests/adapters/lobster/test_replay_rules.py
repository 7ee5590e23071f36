"""The replay rules on a small hand-written level-2 dataset: halts and their resume semantics, hidden
executions, partial cancels to zero, orders older than the file, empty-level padding, and what the
event stream says when the book disagrees with the truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.lobster import LobsterDataClient, LobsterDataConfig, book_at, check_file
from core.book.l3 import TradingStatus
from core.marketdata.events import Aggressor, BookSnapshotEvent, FeedStateEvent, FeedStatus, TradeEvent

from .conftest import epoch_ns, write_pair

NAME = "TEST_2012-06-21_34200000_57600000_message_2.csv"
E = 9_999_999_999
# (message, orderbook row after it). Order 99 rests at 101.00 before the file starts: the first row shows
# its 30 shares, which the book can only learn from the truth (seeded).
DATA = [
    ("34200.000000001,1,1,100,1000000,1", [1010000, 30, 1000000, 100, E, 0, -E, 0]),
    ("34200.5,1,2,50,1010000,-1", [1010000, 80, 1000000, 100, E, 0, -E, 0]),
    ("36000,7,0,0,-1,-1", [1010000, 80, 1000000, 100, E, 0, -E, 0]),  # halt: the row repeats
    ("36300,7,0,0,0,-1", [1010000, 80, 1000000, 100, E, 0, -E, 0]),  # quoting resumes
    ("36301.25,1,3,30,1000000,1", [1010000, 80, 1000000, 130, E, 0, -E, 0]),
    ("36700,7,0,0,1,-1", [1010000, 80, 1000000, 130, E, 0, -E, 0]),  # trading resumes
    ("36700.000001,5,0,10,1005000,1", [1010000, 80, 1000000, 130, E, 0, -E, 0]),  # hidden buy order hit
    ("36701,4,2,20,1010000,-1", [1010000, 60, 1000000, 130, E, 0, -E, 0]),
    ("36702,2,3,30,1000000,1", [1010000, 60, 1000000, 100, E, 0, -E, 0]),  # partial cancel to zero
    ("36703,1,4,5,990000,1", [1010000, 60, 1000000, 100, E, 0, 990000, 5]),
    ("36704,3,1,100,1000000,1", [1010000, 60, 990000, 5, E, 0, -E, 0]),
    ("36705,4,99,5,1010000,-1", [1010000, 55, 990000, 5, E, 0, -E, 0]),  # order the book never saw
    ("36706,3,99,25,1010000,-1", [1010000, 30, 990000, 5, E, 0, -E, 0]),
    ("36707,1,5,7,1020000,-1", [1010000, 30, 990000, 5, 1020000, 7, -E, 0]),
]


def _write(directory: Path, data=DATA) -> Path:
    return write_pair(directory, NAME, [m for m, _ in data], [",".join(map(str, r)) for _, r in data])


def test_small_dataset_matches_with_exact_accounting(tmp_path: Path) -> None:
    client = LobsterDataClient(LobsterDataConfig(str(_write(tmp_path))))
    statuses = []
    for _, mismatches in client.steps():
        assert not mismatches
        client.replay.book.check_invariants()
        statuses.append(client.replay.book.status)
    assert statuses[2:6] == [
        TradingStatus.HALTED,
        TradingStatus.QUOTING,
        TradingStatus.QUOTING,
        TradingStatus.TRADING,
    ]
    c, stats = client.replay.counts, client.replay.book.stats
    assert c.states_compared == 14 and c.slots_compared + c.slots_seeded == 14 * 4
    assert c.slots_seeded == 1 and c.seeded_size == 30  # order 99's level, from the first row only
    assert c.slots_compared_empty == 14 * 4 - 1 - (c.levels_pure + c.levels_with_seed)
    assert c.levels_with_seed == 11  # 101.00 still holds part of order 99 in rows 2-12
    assert (stats.unknown_executions, stats.unknown_deletes) == (1, 1)
    assert stats.unknown_size_from_unattributed == 30 and stats.unknown_size_unmatched == 0
    assert stats.hidden_executions == 1 and stats.halts == 1
    assert client.replay.book.order(3) is None  # cancelled to zero

    check = check_file(str(tmp_path / NAME))
    assert check.ok and check.levels_compared == 55 and check.states_compared == 14
    assert "trading halts: 1" in check.notes


def test_book_at_through_the_halt(tmp_path: Path) -> None:
    path = str(_write(tmp_path))
    view = book_at(path, epoch_ns("36301.25"), 2)
    assert (view.bids, view.asks, view.update_id) == ([(1000000, 130)], [(1010000, 80)], 5)
    end = book_at(path, None, 2)
    assert (end.bids, end.asks) == ([(990000, 5)], [(1010000, 30), (1020000, 7)])
    assert end.ts_ns == epoch_ns("36707") and end.update_id == 14
    # A symbol absent from static data: LOBSTER's own exponents.
    assert (end.price_exponent, end.qty_exponent) == (-4, 0)


def test_events_report_halts_trades_and_the_end(tmp_path: Path) -> None:
    events = list(LobsterDataClient(LobsterDataConfig(str(_write(tmp_path)))).events())
    assert isinstance(events[0], BookSnapshotEvent)
    assert (events[0].bids, events[0].asks, events[0].instrument_id) == (
        ((1000000, 100),),
        ((1010000, 30),),
        0,
    )
    states = [(e.status, e.text) for e in events if isinstance(e, FeedStateEvent)]
    assert states == [
        (FeedStatus.OK, "trading halted"),
        (FeedStatus.OK, "quoting resumed, trading still halted"),
        (FeedStatus.OK, "trading resumed"),
        (FeedStatus.ENDED, "end of LOBSTER file"),
    ]
    trades = [(e.trade_id, e.price, e.qty, e.aggressor) for e in events if isinstance(e, TradeEvent)]
    assert trades == [
        (7, 1005000, 10, Aggressor.SELL),  # hidden buy order executed: seller-initiated
        (8, 1010000, 20, Aggressor.BUY),
        (12, 1010000, 5, Aggressor.BUY),
    ]


def test_disagreement_with_truth_is_a_gap_then_a_snapshot(tmp_path: Path) -> None:
    data = list(DATA)
    data[8] = (data[8][0], [1010000, 60, 1000000, 101, E, 0, -E, 0])  # truth tampered in row 9
    events = list(LobsterDataClient(LobsterDataConfig(str(_write(tmp_path, data)))).events())
    i = next(i for i, e in enumerate(events) if isinstance(e, FeedStateEvent) and e.status is FeedStatus.GAP)
    gap, snapshot = events[i], events[i + 1]
    assert gap.received_seq == 9 and "bid 1: book 100@1000000, truth 101@1000000" in gap.text
    # The book is not bent towards the tampered row: the snapshot is the book's own state.
    assert isinstance(snapshot, BookSnapshotEvent) and snapshot.bids == ((1000000, 100),)
    assert snapshot.venue_seq == 9


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("36000,7,0,0,5,-1", "trading-halt message with price 5"),
        ("36000,1,7,0,1000000,1", "event type 1 with non-positive size 0"),
        ("36000,1,7,10,0,1", "submission at non-positive price 0"),
        ("36000,3,7,-1,1000000,1", "negative size -1"),
    ],
)
def test_malformed_messages_leave_the_book_alone(tmp_path: Path, message: str, reason: str) -> None:
    data = [*DATA[:2], (message, DATA[1][1]), *DATA[2:]]
    check = check_file(str(_write(tmp_path, data)))
    assert check.ok and check.messages == 15
    assert any(n.startswith("malformed messages skipped: 1") and reason in n for n in check.notes)
