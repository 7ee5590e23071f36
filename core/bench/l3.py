"""L3 (order-by-order) book benchmark: operations per second and per-operation latency.

The op stream is either given (the LOBSTER adapter turns a real message file into one:
`adapters.lobster.data.l3_ops`) or generated: a seeded LOBSTER-like mix of submissions, deletions,
partial cancels, visible and hidden executions around a fixed mid. Baselines, measured in the same run
with the same harness: a plain dict used as an order index (set on add, pop on removal), which is the
floor any order-by-order book in Python pays.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from random import Random

from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.book.interface import BookSide
from core.book.l3 import L3Book

# Operation codes: LOBSTER's event types.
ADD, CANCEL, DELETE, EXECUTE, HIDDEN = 1, 2, 3, 4, 5
L3Op = tuple[int, int, BookSide, int, int]  # (code, order id, side, price, size)

_MID = 5_800_000  # 580.00 USD at exponent -4
_TICK = 100


def synthetic_ops(count: int, seed: int = 1) -> list[L3Op]:
    """A seeded op stream with roughly LOBSTER's mix (about half submissions, most orders deleted,
    a few percent executions), never crossing the fixed mid."""
    rng = Random(seed)
    live: dict[int, list] = {}  # id -> [side, price, size]
    ids: list[int] = []  # for O(1) random choice with swap-remove
    where: dict[int, int] = {}
    ops: list[L3Op] = []
    next_id = 1

    def forget(oid: int) -> None:
        i = where.pop(oid)
        last = ids.pop()
        if last != oid:
            ids[i] = last
            where[last] = i
        del live[oid]

    while len(ops) < count:
        r = rng.random()
        if len(ids) < 50 or r < 0.48:
            side = BookSide.BID if rng.random() < 0.5 else BookSide.ASK
            offset = int(rng.expovariate(0.25)) * _TICK
            price = _MID - _TICK - offset if side is BookSide.BID else _MID + offset
            size = rng.choice((100, 100, 100, 200, 50, 300, 500, 18))
            live[next_id] = [side, price, size]
            where[next_id] = len(ids)
            ids.append(next_id)
            ops.append((ADD, next_id, side, price, size))
            next_id += 1
            continue
        oid = ids[rng.randrange(len(ids))]
        side, price, size = live[oid]
        if r < 0.90:
            ops.append((DELETE, oid, side, price, size))
            forget(oid)
        elif r < 0.93 and size > 1:
            cut = rng.randrange(1, size)
            ops.append((CANCEL, oid, side, price, cut))
            live[oid][2] -= cut
        elif r < 0.97:
            fill = rng.randint(1, size)
            ops.append((EXECUTE, oid, side, price, fill))
            if fill == size:
                forget(oid)
            else:
                live[oid][2] -= fill
        else:
            ops.append((HIDDEN, 0, side, price, rng.choice((1, 100, 200))))
    return ops


def apply_op(book: L3Book, op: L3Op) -> None:
    code, oid, side, price, size = op
    if code == ADD:
        book.add(oid, side, price, size)
    elif code == DELETE:
        book.delete(oid, side, price, size)
    elif code == EXECUTE:
        book.execute(oid, size, side, price)
    elif code == CANCEL:
        book.cancel(oid, size, side, price)
    else:
        book.execute_hidden(size)


def _dict_op(index: dict[int, int], op: L3Op) -> None:
    code, oid, _, _, size = op
    if code == ADD:
        index[oid] = size
    elif code != HIDDEN:
        index.pop(oid, None)


def _throughput(ops: Sequence[L3Op], make: Callable[[], object], step: Callable, repeats: int) -> float:
    """Best ops/s over `repeats` runs on a fresh target each time (best: least disturbed by neighbours)."""
    best = 0.0
    for _ in range(repeats):
        target = make()
        t0 = time.perf_counter_ns()
        for op in ops:
            step(target, op)
        elapsed = time.perf_counter_ns() - t0
        best = max(best, len(ops) * 1e9 / max(elapsed, 1))
    return best


def _latency(ops: Sequence[L3Op], target: object, step: Callable) -> dict[str, float]:
    rec = LatencyRecorder()
    clock = time.perf_counter_ns
    record = rec.record
    for op in ops:
        t0 = clock()
        step(target, op)
        record(clock() - t0)
    return {k: float(v) for k, v in rec.percentiles().items()}


def run_l3_bench(
    quick: bool = False, ops: Sequence[L3Op] | None = None, source: str = "", seed: int = 1
) -> BenchReport:
    """Measure L3 book operations: throughput and per-op latency, each against a plain-dict baseline.

    ops: a real op stream (e.g. `adapters.lobster.data.l3_ops(path)`) with `source` naming it;
    None generates a seeded synthetic stream (20k ops when quick, else 300k).
    """
    if ops is None:
        ops = synthetic_ops(20_000 if quick else 300_000, seed)
        source = source or f"synthetic LOBSTER-like stream, seed {seed}"
    if not ops:
        raise ValueError("run_l3_bench: the op stream is empty")
    repeats = 2 if quick else 5
    report = BenchReport(f"L3 book: {len(ops):,} operations ({source})")
    gc_was_enabled = gc.isenabled()
    gc.disable()  # collector pauses are not the book's cost; measured the same way for the baseline
    try:
        book_rate = _throughput(ops, L3Book, apply_op, repeats)
        dict_rate = _throughput(ops, dict, _dict_op, repeats)
        book_lat = _latency(ops, L3Book(), apply_op)
        dict_lat = _latency(ops, {}, _dict_op)
    finally:
        if gc_was_enabled:
            gc.enable()
    report.cases.append(
        BenchCase("L3 operations", "ops/s", {"value": book_rate}, "dict order index", {"value": dict_rate})
    )
    report.cases.append(BenchCase("L3 operation", "ns/op", book_lat, "dict order index", dict_lat))
    book = L3Book()
    for op in ops:
        apply_op(book, op)
    s = book.stats
    report.notes.append(
        f"mix: adds {s.adds}, deletes {s.deletes}, partial cancels {s.cancels}, executions {s.executions}, "
        f"hidden executions {s.hidden_executions}; unknown-order messages {s.unknown_orders}; "
        f"{len(book)} orders resting at the end"
    )
    report.notes.append("throughput is the best of the runs; latency includes the timer call (both cases)")
    return report
