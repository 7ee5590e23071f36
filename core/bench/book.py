"""L2 book benchmarks: update throughput and per-event latency, fast vs reference implementation,
plus a venue adapter's parse+sync rate against plain JSON decoding of the same messages.

core cannot import the venue adapters, so the recorded data comes in as a `BookBenchSource` built by
the caller (adapters.binance.bench.binance_bench_source builds one from the real Binance capture).
Without one, a seeded synthetic stream with the shape of a real book (updates clustered near the
top) is used and the report says so. Nothing here is pass/fail: figures come with same-run baselines.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.book.fast import FastL2Book
from core.book.interface import BookSide, L2Book
from core.book.reference import ReferenceL2Book
from core.marketdata.events import BookDeltaEvent, BookSnapshotEvent

BookEvent = BookSnapshotEvent | BookDeltaEvent


@dataclass
class BookBenchSource:
    name: str  # what the events are, e.g. "Binance USD-M BTCUSDT capture, 2024-08-08"
    events: Sequence[BookEvent]  # one snapshot first, then deltas
    messages: int = 0  # raw messages behind parse_and_sync
    parse_and_sync: Callable[[], int] | None = None  # replays the raw messages; returns how many
    decode_only: Callable[[], int] | None = None  # json-decodes the same messages: the baseline


def run_book_bench(quick: bool = False, source: BookBenchSource | None = None) -> BenchReport:
    src = source if source is not None else synthetic_source(seed=7, deltas=1_000 if quick else 5_000)
    repeats = 1 if quick else 5
    report = BenchReport(f"L2 book: {src.name}")
    deltas = [e for e in src.events if isinstance(e, BookDeltaEvent)]
    levels = sum(len(e.levels) for e in deltas)
    report.notes.append(f"{len(deltas)} delta events, {levels} level updates, best of {repeats} runs")

    ref_rate = _best(repeats, lambda: _apply_all(ReferenceL2Book, src.events))
    fast_rate = _best(repeats, lambda: _apply_all(FastL2Book, src.events))
    dict_rate = _best(repeats, lambda: _dict_floor(src.events))
    n = len(deltas)
    report.notes.append(f"delta events/s: FastL2Book {n / fast_rate:,.0f}, reference {n / ref_rate:,.0f}")
    report.cases.append(
        BenchCase(
            "apply deltas, FastL2Book",
            "level updates/s",
            {"value": levels / fast_rate},
            "apply deltas, ReferenceL2Book",
            {"value": levels / ref_rate},
            goal="higher is better; writes alone favour the reference (no ordering kept)",
        )
    )
    report.cases.append(
        BenchCase(
            "apply deltas, FastL2Book",
            "level updates/s",
            {"value": levels / fast_rate},
            "plain dict set/pop of the same updates (floor)",
            {"value": levels / dict_rate},
            goal="ratio = share of the bare-dict speed kept",
        )
    )
    every = 50 if quick else 10
    report.notes.append(f"latency cases sample every {every}th delta event (all events are applied)")
    for read_name, read in (("best bid/ask", _read_top), ("depth 10", _read_depth10)):
        fast = _latency(FastL2Book, src.events, read, every)
        ref = _latency(ReferenceL2Book, src.events, read, every)
        report.cases.append(
            BenchCase(
                f"apply delta event + {read_name}, FastL2Book",
                "ns/event",
                fast,
                "same, ReferenceL2Book (sort on read)",
                ref,
                goal="lower is better",
            )
        )
    if src.parse_and_sync is not None and src.decode_only is not None and src.messages:
        parse_rate = _best(repeats, src.parse_and_sync)
        json_rate = _best(repeats, src.decode_only)
        report.cases.append(
            BenchCase(
                "parse + sync + normalize (market-data client)",
                "msg/s",
                {"value": src.messages / parse_rate},
                "json.loads of the same messages",
                {"value": src.messages / json_rate},
                goal="ratio = share of raw JSON decoding speed kept",
            )
        )
    else:
        report.notes.append("no raw capture given: parse+sync rate not measured (see adapters.binance.bench)")
    return report


# -- measurements ------------------------------------------------------------------------------------
def _best(repeats: int, action: Callable[[], object]) -> float:
    """Fastest wall time (s) of `repeats` runs: the least disturbed by a shared machine."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - t0)
    return best


def _apply_all(book_class: type[L2Book], events: Sequence[BookEvent]) -> L2Book:
    book = book_class()
    for e in events:
        if isinstance(e, BookDeltaEvent):
            book.apply_deltas(e.levels, e.venue_seq)
        else:
            book.apply_snapshot(e.bids, e.asks, e.venue_seq)
    return book


def _dict_floor(events: Sequence[BookEvent]) -> None:
    sides: dict[int, dict[int, int]] = {BookSide.BID: {}, BookSide.ASK: {}}
    for e in events:
        if isinstance(e, BookDeltaEvent):
            for side, price, qty in e.levels:
                if qty:
                    sides[side][price] = qty
                else:
                    sides[side].pop(price, None)
        else:
            sides = {BookSide.BID: dict(e.bids), BookSide.ASK: dict(e.asks)}


def _read_top(book: L2Book) -> object:
    return book.best_bid(), book.best_ask()


def _read_depth10(book: L2Book) -> object:
    return book.depth(BookSide.BID, 10), book.depth(BookSide.ASK, 10)


def _latency(
    book_class: type[L2Book], events: Sequence[BookEvent], read: Callable[[L2Book], object], every: int
) -> dict:
    """Per-event latency of apply + read, sampled on every `every`-th delta event (all are applied):
    the reference book's sort-on-read would otherwise take minutes on a 5000-level book."""
    rec = LatencyRecorder()
    book = book_class()
    clock = time.perf_counter_ns
    n = 0
    for e in events:
        if isinstance(e, BookDeltaEvent):
            n += 1
            if n % every:
                book.apply_deltas(e.levels, e.venue_seq)
                continue
            t0 = clock()
            book.apply_deltas(e.levels, e.venue_seq)
            read(book)
            rec.record(clock() - t0)
        else:
            book.apply_snapshot(e.bids, e.asks, e.venue_seq)
    return {k: float(v) for k, v in rec.percentiles().items()}


# -- synthetic data (only when no recording is given) ------------------------------------------------------
def synthetic_source(seed: int, deltas: int, levels_per_side: int = 1000) -> BookBenchSource:
    """A seeded random book: 1000 levels a side, deltas clustered near a wandering mid, 30% deletes."""
    rng = random.Random(seed)
    mid = 6_000_000
    bids = tuple((mid - 1 - i, rng.randint(1, 10_000)) for i in range(levels_per_side))
    asks = tuple((mid + 1 + i, rng.randint(1, 10_000)) for i in range(levels_per_side))
    events: list[BookEvent] = [BookSnapshotEvent(1, 1, 0, 0, bids, asks)]
    for n in range(deltas):
        mid += rng.choice((-1, 0, 0, 1))
        batch = []
        for _ in range(rng.randint(1, 40)):
            side = rng.choice((BookSide.BID, BookSide.ASK))
            offset = int(abs(rng.gauss(0, 30))) + 1
            price = mid - offset if side == BookSide.BID else mid + offset
            batch.append((side, price, 0 if rng.random() < 0.3 else rng.randint(1, 10_000)))
        events.append(BookDeltaEvent(1, n + 2, 0, 0, tuple(batch), prev_venue_seq=n + 1))
    return BookBenchSource(f"synthetic seeded book (seed {seed}), no recording given", events)
