"""`aerodesk log` reading benchmark: select, decode to rows, export, stats and dump on a recorder-style
journal, against reading the journal's raw bytes in the same run.

    report = run_log_bench()                   # or: aerodesk bench log [--quick] [--json]

The journal holds a desk's traffic: market data (three trades to one three-level book delta) with
orders, venue orders and execution reports sprinkled in, on their streams, 64 MiB segments. Each
case opens the journal afresh (checksums verified, as the CLI does) and is the best of `runs`; reads
come from the page cache. Baseline: np.fromfile of every segment (the raw bytes, no parsing),
expressed as messages per second. Goals (from the design): select >= 5M msg/s, decode to rows
>= 1M msg/s. Nothing here is pass/fail.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.bench.recorder import flood_payloads
from core.bench.report import BenchCase, BenchReport
from core.codec.messages import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    BookDelta,
    ExecutionReport,
    NewOrder,
    OperatorIdentity,
    Trade,
)
from core.journal import FsyncPolicy, JournalReader, JournalWriter
from core.recorder.columns import decode_columns
from core.recorder.dump import Selection, record_text, select_records
from core.recorder.export import export_parquet
from core.recorder.names import StreamNames
from core.recorder.stats import journal_stats

T0 = 1_800_000_000_000_000_000
MD, ORDERS, VENUE_ORDERS, VENUE_REPORTS, STATE = 20, 30, 40, 50, 60
_OPERATOR = OperatorIdentity(user="bench", host="localhost", pid=1, tool="bench")


def run_log_bench(
    quick: bool = False, *, messages: int | None = None, runs: int | None = None
) -> BenchReport:
    n = messages or (200_000 if quick else 2_000_000)
    runs = runs or (1 if quick else 3)
    with tempfile.TemporaryDirectory(prefix="aerodesk-bench-log-") as tmp:
        path = Path(tmp) / "journal"
        _write_journal(path, n)
        return _measure(path, Path(tmp), n, runs, quick)


def _write_journal(path: Path, n: int) -> None:
    md = flood_payloads(4096)
    with JournalWriter(
        path, schema_id=SCHEMA_ID, schema_version=SCHEMA_VERSION, instance="bench", fsync=FsyncPolicy.never()
    ) as writer:
        append = writer.append
        order = 0
        i = 0
        while i < n:
            t = T0 + i * 10_000  # 100k messages per second of recorded time
            if i % 50 == 49 and i + 4 <= n:  # one order in fifty messages, with its venue order and acks
                send = t + 20_000
                append(_order(order, send, t, 0), stream_id=ORDERS, receive_time_ns=send, session_id=2)
                append(
                    _order(order, send, t, 9_000 + order),
                    stream_id=VENUE_ORDERS,
                    receive_time_ns=send + 5_000,
                )
                append(
                    _report(order, send + 6_000, 0),
                    stream_id=STATE,
                    receive_time_ns=send + 6_000,
                    session_id=3,
                )
                append(
                    _report(order, send + 90_000, 9_000 + order),
                    stream_id=VENUE_REPORTS,
                    receive_time_ns=send + 90_000,
                )
                order += 1
                i += 4
                continue
            append(md[i & 4095], stream_id=MD, receive_time_ns=t, session_id=1, position=i * 128)
            i += 1


def _order(i: int, send: int, trigger: int, order_id: int) -> bytes:
    return NewOrder.encode_bytes(
        correlationId=i, clientId=1, strategyId=1, clOrdId=i, orderId=order_id, instrumentId=1, venueId=1,
        side=1, ordType=1, timeInForce=1, flags=0, price=5_000_000, qty=10, sendTs=send, triggerTs=trigger,
        operator=_OPERATOR,
    )  # fmt: skip


def _report(i: int, ts: int, order_id: int) -> bytes:
    return ExecutionReport.encode_bytes(
        orderId=order_id, clOrdId=i, origClOrdId=0, strategyId=1, clientId=1, correlationId=i, instrumentId=1,
        venueId=1, venueOrderId="V", execId=i, execType=1, ordStatus=1, side=1, ordType=1, timeInForce=1,
        flags=0, price=5_000_000, qty=10, lastPx=-(2**63), lastQty=0, cumQty=0, leavesQty=10, avgPx=(0, -2),
        fee=(0, -2), reason=0, transactTs=ts, ts=ts, seq=i, text="",
    )  # fmt: skip


def _best(runs: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _rate(count: int, seconds: float) -> dict[str, float]:
    return {"value": count / seconds if seconds > 0 else float("inf")}


def _measure(path: Path, tmp: Path, n: int, runs: int, quick: bool) -> BenchReport:
    segments = sorted(path.glob("*.seg"))
    size = sum(p.stat().st_size for p in segments)
    report = BenchReport(
        f"log: reading a {n:,}-message journal ({size / 2**20:.0f} MiB, {len(segments)} segment(s))"
    )
    t_raw, _ = _best(runs, lambda: [np.fromfile(p, dtype=np.uint8) for p in segments])
    raw = _rate(n, t_raw)
    report.notes.append(f"raw read baseline: {size / t_raw / 1e9:.2f} GB/s = {raw['value']:,.0f} msg/s")
    window = Selection(
        stream_ids=[MD], template_ids=[Trade.TEMPLATE_ID], start_ns=T0 + n * 2_500, end_ns=T0 + n * 7_500
    )

    def select(verify: bool = True) -> int:
        return len(
            JournalReader(path, verify=verify).scan(
                stream_ids=window.stream_ids,
                template_ids=window.template_ids,
                start_ns=window.start_ns,
                end_ns=window.end_ns,
            )
        )

    t, picked = _best(runs, select)
    report.cases.append(
        BenchCase(
            f"select: stream + template + time window ({picked:,} of {n:,})",
            "msg/s",
            _rate(n, t),
            "np.fromfile",
            raw,
            ">= 5M msg/s",
        )
    )
    t, _ = _best(runs, lambda: select(verify=False))
    report.cases.append(
        BenchCase(
            "select, sealed index trusted (no checksum pass over the records)",
            "msg/s",
            _rate(n, t),
            "np.fromfile",
            raw,
            ">= 5M msg/s",
        )
    )

    def trades() -> int:
        return len(decode_columns(JournalReader(path), Trade, stream_ids=[MD]))

    t, rows = _best(runs, trades)
    assert isinstance(rows, int)
    report.notes.append(f"decode Trade: {n / t:,.0f} journal messages scanned per second")
    report.cases.append(
        BenchCase(
            f"decode to rows: Trade fixed blocks ({rows:,} rows)",
            "rows/s",
            _rate(rows, t),
            "np.fromfile",
            raw,
            ">= 1M msg/s",
        )
    )

    def deltas() -> tuple[int, int]:
        cols = decode_columns(JournalReader(path), BookDelta, stream_ids=[MD])
        return len(cols), len(cols.groups["levels"].blocks)

    t, counts = _best(runs, deltas)
    assert isinstance(counts, tuple)
    report.notes.append(
        f"decode BookDelta: {n / t:,.0f} journal messages scanned per second, "
        f"{counts[1] / t:,.0f} level rows/s"
    )
    report.cases.append(
        BenchCase(
            f"decode to rows: BookDelta with its levels group ({counts[0]:,} messages, {counts[1]:,} levels)",
            "msg/s",
            _rate(counts[0], t),
            "np.fromfile",
            raw,
            ">= 1M msg/s",
        )
    )

    def export() -> int:
        return sum(t.rows for t in export_parquet(JournalReader(path), tmp / "parquet"))

    t, _ = _best(1, export)
    report.cases.append(BenchCase("export: every type to Parquet", "msg/s", _rate(n, t), "np.fromfile", raw))
    t, _ = _best(1, lambda: journal_stats(JournalReader(path), StreamNames()))
    report.cases.append(
        BenchCase("stats: rates, md gaps, stage latencies", "msg/s", _rate(n, t), "np.fromfile", raw)
    )

    dump_n = min(n, 20_000 if quick else 200_000)
    names = StreamNames()

    def iterate() -> int:
        count = 0
        for _ in JournalReader(path).records():
            count += 1
            if count == dump_n:
                break
        return count

    def dump() -> int:
        count = 0
        for record in select_records(JournalReader(path), Selection()):
            record_text(record, names)
            count += 1
            if count == dump_n:
                break
        return count

    t_iter, _ = _best(1, iterate)
    t, _ = _best(1, dump)
    report.cases.append(
        BenchCase(
            f"dump: decode + format one line per message ({dump_n:,})",
            "msg/s",
            _rate(dump_n, t),
            "records() iteration",
            _rate(dump_n, t_iter),
        )
    )
    return report


if __name__ == "__main__":
    print(run_log_bench().to_text())
