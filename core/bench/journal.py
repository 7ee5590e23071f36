"""Journal benchmark: append, scan/filter, block gather and record iteration against same-run baselines.

Baselines, measured in the same run on the same bytes:
- reads: np.fromfile of every segment file (the raw bytes, no parsing), as messages per second;
- buffered append: a Python loop that only packs a bare header and payload into a buffer and writes it;
- durable append: os.write + fdatasync of the same frame bytes to a plain file.
Reads are from the page cache (the files were just written); nothing here is a pass/fail threshold.
"""

from __future__ import annotations

import os
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.journal import FsyncPolicy, JournalReader, JournalWriter

SCHEMA_ID = 7001
TRADE_TEMPLATE = 3
QUOTE_TEMPLATE = 5
_SBE_HEADER = struct.Struct("<HHHH")
_TRADE = struct.Struct("<Iqqbqq")  # instrumentId, price, qty, side, tradeTime, tradeId
_QUOTE = struct.Struct("<Iqqqq")  # instrumentId, bid, bidQty, ask, askQty
TRADE_DTYPE = np.dtype(
    [
        ("instrument_id", "<u4"),
        ("price", "<i8"),
        ("qty", "<i8"),
        ("side", "u1"),
        ("trade_time_ns", "<i8"),
        ("trade_id", "<i8"),
    ]
)
STREAMS = (20, 30, 60)
_BARE_HEADER = struct.Struct("<IIqi")  # what a minimal framing would pack: length, flags, time, stream


def _payloads(count: int) -> list[bytes]:
    """A pool of realistic SBE messages: 3 trades to 1 quote."""
    out = []
    for i in range(count):
        if i % 4 == 3:
            block = _QUOTE.pack(i % 50, 5_000_000 + i, 10 + i % 7, 5_000_100 + i, 12 + i % 5)
            out.append(_SBE_HEADER.pack(_QUOTE.size, QUOTE_TEMPLATE, SCHEMA_ID, 1) + block)
        else:
            block = _TRADE.pack(
                i % 50, 5_000_000 + i, 1 + i % 97, 1 + i % 2, 1_700_000_000_000_000_000 + i, i
            )
            out.append(_SBE_HEADER.pack(_TRADE.size, TRADE_TEMPLATE, SCHEMA_ID, 1) + block)
    return out


def _best_of(runs: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _rate(count: int, seconds: float) -> dict[str, float]:
    return {"value": count / seconds if seconds > 0 else float("inf")}


def run_journal_bench(
    records: int = 1_000_000,
    *,
    directory: Path | None = None,
    segment_bytes: int = 64 * 1024 * 1024,
    durable_records: int = 2_000,
    runs: int = 3,
    quick: bool = False,
) -> BenchReport:
    """Measure the journal on `records` messages written under `directory` (a temp dir by default).

    `quick` is a smoke run: 50k messages, 200 durable appends, one run.
    """
    if quick:
        records, durable_records, runs = min(records, 50_000), min(durable_records, 200), 1
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        return _run(Path(tmp), records, segment_bytes, durable_records, runs)


def _run(root: Path, n: int, segment_bytes: int, durable_records: int, runs: int) -> BenchReport:
    report = BenchReport(f"journal: {n:,} messages, {segment_bytes >> 20} MiB segments")
    pool = _payloads(4096)
    mask = len(pool) - 1
    path = root / "journal"

    # --- append, fsync none ---------------------------------------------------------------------
    def journal_append() -> None:
        with JournalWriter(
            path,
            schema_id=SCHEMA_ID,
            schema_version=1,
            instance="bench",
            fsync=FsyncPolicy.never(),
            max_segment_bytes=segment_bytes,
        ) as writer:
            append = writer.append
            for i in range(n):
                append(pool[i & mask], stream_id=STREAMS[i % 3], receive_time_ns=i, position=i * 64)

    def raw_append() -> None:
        buf = bytearray()
        pack = _BARE_HEADER.pack
        with open(root / "raw.bin", "wb", buffering=0) as f:
            for i in range(n):
                payload = pool[i & mask]
                buf += pack(len(payload), 0, i, STREAMS[i % 3])
                buf += payload
                if len(buf) >= 1 << 20:
                    f.write(buf)
                    buf.clear()
            f.write(buf)

    t_journal, _ = _best_of(1, journal_append)
    t_raw, _ = _best_of(1, raw_append)
    (root / "raw.bin").unlink()
    report.cases.append(
        BenchCase("append, fsync none", "msg/s", _rate(n, t_journal), "bare pack+write loop", _rate(n, t_raw))
    )

    segments = sorted(path.glob("*.seg"))
    total_bytes = sum(p.stat().st_size for p in segments)
    report.notes.append(
        f"{len(segments)} segments, {total_bytes / n:.1f} bytes per record on disk "
        f"({sum(len(p) for p in pool) / len(pool):.1f} B payload)"
    )

    # --- reads: baseline is the raw bytes -----------------------------------------------------
    t_raw_read, _ = _best_of(runs, lambda: [np.fromfile(p, dtype=np.uint8) for p in segments])
    raw_read = _rate(n, t_raw_read)
    report.notes.append(
        f"raw read baseline: {total_bytes / t_raw_read / 1e9:.2f} GB/s (np.fromfile, page cache)"
    )

    def scan(verify: bool) -> int:
        return len(JournalReader(path, verify=verify).scan(stream_ids=[20], template_ids=[TRADE_TEMPLATE]))

    t, selected = _best_of(runs, lambda: scan(True))
    report.cases.append(
        BenchCase(
            f"scan+filter, verified ({selected:,} selected)",
            "msg/s",
            _rate(n, t),
            "np.fromfile",
            raw_read,
            ">= 5M msg/s",
        )
    )
    t, _ = _best_of(runs, lambda: scan(False))
    report.cases.append(
        BenchCase(
            "scan+filter, sealed index trusted", "msg/s", _rate(n, t), "np.fromfile", raw_read, ">= 5M msg/s"
        )
    )

    def gather() -> int:
        return len(JournalReader(path).blocks(TRADE_DTYPE, TRADE_TEMPLATE))

    t, rows = _best_of(runs, gather)
    assert isinstance(rows, int)
    report.cases.append(
        BenchCase(
            f"decode to rows: blocks() of {rows:,} trades",
            "rows/s",
            _rate(rows, t),
            "np.fromfile",
            raw_read,
            ">= 1M/s",
        )
    )
    report.cases.append(
        BenchCase(
            "decode to rows: messages scanned", "msg/s", _rate(n, t), "np.fromfile", raw_read, ">= 1M msg/s"
        )
    )

    iterate_n = min(n, 500_000)

    def iterate() -> int:
        count = 0
        for _ in JournalReader(path).records():
            count += 1
            if count == iterate_n:
                break
        return count

    t, _ = _best_of(1, iterate)
    report.cases.append(
        BenchCase("records() iteration", "msg/s", _rate(iterate_n, t), "np.fromfile", raw_read)
    )

    # --- the record-by-record walk (unsealed segments: a crashed or active writer) -----------------
    for index_file in path.glob("*.idx"):
        index_file.unlink()
    t, _ = _best_of(1, lambda: len(JournalReader(path).scan()))
    report.cases.append(
        BenchCase("scan, unsealed (crc per record)", "msg/s", _rate(n, t), "np.fromfile", raw_read)
    )

    # --- durable append: every record fsynced ---------------------------------------------------
    report.cases.append(_durable_append(root, pool, durable_records))
    return report


def _durable_append(root: Path, pool: list[bytes], count: int) -> BenchCase:
    journal, raw = LatencyRecorder(), LatencyRecorder()
    with JournalWriter(
        root / "wal",
        schema_id=SCHEMA_ID,
        schema_version=1,
        instance="bench",
        fsync=FsyncPolicy.every_record(),
    ) as writer:
        for i in range(count):
            t0 = time.perf_counter_ns()
            writer.append(pool[i % len(pool)], stream_id=30, receive_time_ns=i)
            journal.record(time.perf_counter_ns() - t0)
    fd = os.open(root / "raw-wal.bin", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for i in range(count):
            frame = _BARE_HEADER.pack(len(pool[i % len(pool)]), 0, i, 30) + pool[i % len(pool)]
            t0 = time.perf_counter_ns()
            os.write(fd, frame)
            os.fdatasync(fd)
            raw.record(time.perf_counter_ns() - t0)
    finally:
        os.close(fd)
    return BenchCase(
        f"append, fsync every record ({count:,})",
        "ns/op",
        {k: float(v) for k, v in journal.percentiles().items()},
        "os.write+fdatasync",
        {k: float(v) for k, v in raw.percentiles().items()},
    )


if __name__ == "__main__":
    print(run_journal_bench().to_text())
