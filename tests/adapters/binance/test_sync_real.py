"""Gaps on real data: drop one depth diff from the real capture and the sync must notice, discard the
book, and resynchronise on the next snapshot to exactly the book of the unbroken capture."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.binance.replay import NotSynchronisedError, Replay, book_at, replay_file
from core.book import BookSide, ReferenceL2Book
from core.marketdata.events import BookDeltaEvent, BookSnapshotEvent, FeedStateEvent, FeedStatus
from core.marketdata.fixedpoint import format_fixed

from .conftest import RawCapture, read_raw

KEEP_LINES = {"spot": 8000, "usdm": 8000}  # a prefix of each capture keeps the test fast


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines))  # plain text: the reader recognises it by content, not by name
    return path


def _book_at_id(events, update_id: int) -> ReferenceL2Book:
    book = ReferenceL2Book()
    for e in events:
        if isinstance(e, BookSnapshotEvent):
            book.apply_snapshot(e.bids, e.asks, e.venue_seq)
        elif isinstance(e, BookDeltaEvent):
            book.apply_deltas(e.levels, e.venue_seq, e.prev_venue_seq)
        if book.update_id == update_id:
            return book
    raise AssertionError(f"the unbroken replay never reached update {update_id}")


@dataclass
class Case:
    market: str
    lines: list[str]
    raw: RawCapture
    base: Replay  # the unbroken prefix
    drop: int  # index (in raw.diffs) of the dropped diff
    resync: int  # index of the diff whose final id the injected snapshot carries
    broken_path: Path
    broken: Replay  # the prefix without the dropped diff


@pytest.fixture(scope="module", params=["spot", "usdm"])
def case(request, tmp_path_factory):
    """The unbroken prefix of a capture and the same prefix with one live diff dropped, both replayed."""
    market = request.param
    tmp = tmp_path_factory.mktemp(market)
    lines = request.getfixturevalue(f"{market}_lines")[: KEEP_LINES[market]]
    raw = read_raw(lines)
    base = replay_file(_write(tmp / "unbroken.txt", lines), keep_events=True)
    assert base.sync.stats.gaps == 0 and base.bad_lines == 0, base.bad_examples
    live = [n for n, line in enumerate(raw.diff_lines) if line > raw.snapshot_line]
    drop, resync = live[100], live[130]
    dropped_line = raw.diff_lines[drop]
    broken_path = _write(tmp / "broken.txt", lines[:dropped_line] + lines[dropped_line + 1 :])
    broken = replay_file(broken_path, keep_events=True)
    return Case(market, lines, raw, base, drop, resync, broken_path, broken)


def test_dropped_diff_is_detected_as_a_gap(case):
    market, raw, base, drop, r = case.market, case.raw, case.base, case.drop, case.broken

    gaps = [e for e in r.events if isinstance(e, FeedStateEvent) and e.status is FeedStatus.GAP]
    assert len(gaps) == 1 and r.sync.stats.gaps == 1
    lost, before, after = raw.diffs[drop], raw.diffs[drop - 1], raw.diffs[drop + 1]
    if market == "spot":
        assert (gaps[0].expected_seq, gaps[0].received_seq) == (lost["U"], after["U"])
    else:
        assert (gaps[0].expected_seq, gaps[0].received_seq) == (before["u"], after["pu"])
    assert r.chain_breaks == 1  # the file-order chain check sees the same hole
    assert not r.sync.synced  # the capture has no later snapshot: the book stays discarded
    assert r.check.states_mismatched == 0
    assert 0 < r.check.states_compared < base.check.states_compared
    with pytest.raises(NotSynchronisedError, match="not synchronised"):
        book_at(str(case.broken_path), None, 5)


def test_gap_then_snapshot_resynchronises_to_the_unbroken_book(case, tmp_path):
    market, lines, raw, base = case.market, case.lines, case.raw, case.base
    drop, resync = case.drop, case.resync
    target = raw.diffs[resync]
    ref = _book_at_id(base.events, target["u"])
    inst = base.client.instruments["BTCUSDT"]
    pe, qe = inst.price_exponent, inst.qty_exponent
    rest = {
        "lastUpdateId": target["u"],
        "bids": [[format_fixed(p, pe), format_fixed(q, qe)] for p, q in ref.depth(BookSide.BID)],
        "asks": [[format_fixed(p, pe), format_fixed(q, qe)] for p, q in ref.depth(BookSide.ASK)],
    }
    if market == "usdm":
        rest |= {"E": target["E"], "T": target["T"]}
    at = raw.diff_lines[resync]  # the REST answer arrives just before the diff that ends at its id
    recv = lines[at].split(" ", 1)[0]
    snapshot_line = f"{recv} {json.dumps(rest)}\n"
    broken = (
        lines[: raw.diff_lines[drop]] + lines[raw.diff_lines[drop] + 1 : at] + [snapshot_line] + lines[at:]
    )
    r = replay_file(_write(tmp_path / "resync.txt", broken), keep_events=True)

    s = r.sync.stats
    assert (s.gaps, s.snapshots_applied, s.resyncs) == (1, 2, 1)
    statuses = [e.status for e in r.events if isinstance(e, FeedStateEvent)]
    assert statuses == [FeedStatus.OK, FeedStatus.GAP, FeedStatus.OK]
    assert r.sync.synced
    assert r.sync.book.update_id == base.sync.book.update_id
    assert r.sync.book.depth(BookSide.BID) == base.sync.book.depth(BookSide.BID)
    assert r.sync.book.depth(BookSide.ASK) == base.sync.book.depth(BookSide.ASK)
    assert r.check.states_mismatched == 0
    assert r.check.states_compared > case.broken.check.states_compared  # truth is checked again after resync
