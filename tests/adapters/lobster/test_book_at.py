"""`book_at`: the reconstructed book at a moment equals LOBSTER's orderbook row for that moment."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.lobster import book_at

from .conftest import epoch_ns, member_lines

EMPTY = 9_999_999_999


def _levels(row: str, depth: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    v = [int(x) for x in row.split(",")]
    asks = [(v[4 * k], v[4 * k + 1]) for k in range(depth) if v[4 * k] != EMPTY]
    bids = [(v[4 * k + 2], v[4 * k + 3]) for k in range(depth) if v[4 * k + 2] != -EMPTY]
    return bids, asks


@pytest.fixture(scope="module")
def goog_lines(goog_zip: Path) -> tuple[list[str], list[str]]:
    return member_lines(goog_zip, "message")[1], member_lines(goog_zip, "orderbook")[1]


def test_mid_day_book_equals_that_orderbook_row(goog_zip: Path, goog_lines) -> None:
    messages, rows = goog_lines
    times = [m.split(",", 1)[0] for m in messages]
    # Around 12:40 New York time, the last of the messages sharing a timestamp.
    k = next(i for i in range(len(times) // 2, len(times)) if times[i + 1] != times[i])
    at = epoch_ns(times[k])

    view = book_at(str(goog_zip), at, 10)
    bids, asks = _levels(rows[k], 10)
    assert (view.bids, view.asks) == (bids, asks)
    assert len(view.bids) == len(view.asks) == 10
    assert view.ts_ns == at and view.update_id == k + 1
    assert (view.symbol, view.format, view.price_exponent, view.qty_exponent) == ("GOOG", "lobster", -4, 0)

    # One nanosecond before that message: the state after the message before it.
    earlier = book_at(str(goog_zip), at - 1, 3)
    j = max(i for i in range(k) if times[i] != times[k])
    assert (earlier.bids, earlier.asks) == _levels(rows[j], 3)
    assert earlier.update_id == j + 1


def test_end_of_file_and_depth_cap(aapl_zip: Path) -> None:
    _, rows = member_lines(aapl_zip, "orderbook")
    view = book_at(str(aapl_zip), None, 5)  # a level-1 file knows one level per side
    assert (view.bids, view.asks) == _levels(rows[-1], 1)
    assert view.update_id == len(rows)


def test_before_the_first_message_and_bad_depth(aapl_zip: Path) -> None:
    with pytest.raises(ValueError, match="no message at or before"):
        book_at(str(aapl_zip), epoch_ns("34199"), 1)
    with pytest.raises(ValueError, match="depth must be at least 1"):
        book_at(str(aapl_zip), None, 0)
