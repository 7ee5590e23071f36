"""Recorder benchmark: messages per second the recorder journals against raw pyaeron polling, same run.

    report = run_recorder_bench()              # or: aerodesk bench recorder [--quick] [--json]

A child process (`python -m core.bench.recorder flood`) publishes N realistic market-data messages
(trades and three-level book deltas, 69-134 bytes) on the desk's market_data stream as fast as the
stream takes them, through a media driver this benchmark starts (instance `bench-<random>`) and stops.
This process receives them, alternately:
- raw: a pyaeron subscription whose handler only counts (the baseline: what Python can poll);
- recorder: the RecorderAgent of the recorder daemon (tethered, the default policy; fsync batch
  every second as by default), journaling into a temp directory, driven by the same kind of loop.
Throughput is counted from the first message received to the last; rounds alternate raw and recorder
so machine noise hits both alike. A tethered recorder slower than the publisher holds it back (back
pressure) rather than losing anything, so its rate is what it can journal. Nothing here is pass/fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pyaeron

from core.agent import SystemClock, backoff
from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.bench.workers import finish_worker, spawn_worker
from core.bus import BusClient, instance_dir, load_bus_config, spawn_driver
from core.codec.messages import SCHEMA_ID, SCHEMA_VERSION, BookDelta, Trade
from core.journal import JournalReader, JournalWriter
from core.recorder.agent import RecorderAgent
from core.recorder.config import RecorderConfig

STREAM = "market_data"
_TIMEOUT_S = 300.0


def flood_payloads(count: int) -> list[bytes]:
    """A pool of market data: three trades to one book delta, as a busy feed looks."""
    out = []
    for i in range(count):
        if i % 4 == 3:
            out.append(
                BookDelta.encode_bytes(
                    instrumentId=1 + i % 3,
                    seq=i + 1,
                    venueSeq=i,
                    exchangeTs=i,
                    receiveTs=i,
                    publishTs=i,
                    levels=[(1 + j % 2, 5_000_000 + i + j, 10 + j, 1) for j in range(3)],
                )
            )
        else:
            out.append(
                Trade.encode_bytes(
                    instrumentId=1 + i % 3,
                    seq=i + 1,
                    tradeId=i,
                    exchangeTs=i,
                    receiveTs=i,
                    publishTs=i,
                    price=5_000_000 + i,
                    qty=1 + i % 9,
                    aggressorSide=1 + i % 2,
                )
            )
    return out


def run_recorder_bench(
    quick: bool = False, *, messages: int | None = None, rounds: int | None = None
) -> BenchReport:
    messages = messages or (100_000 if quick else 500_000)
    rounds = rounds or (1 if quick else 3)
    instance = f"bench-{uuid.uuid4().hex[:8]}"
    driver = spawn_driver(instance)
    rates: dict[str, list[float]] = {"raw": [], "recorder": [], "append": []}
    per_message = LatencyRecorder()
    notes: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="aerodesk-bench-recorder-") as tmp:
            for r in range(rounds):
                rates["raw"].append(_raw_round(instance, messages))
                rate, journal_note = _recorder_round(instance, messages, Path(tmp) / f"round{r}", per_message)
                rates["recorder"].append(rate)
                notes.append(journal_note)
                rates["append"].append(_append_round(messages, Path(tmp) / f"append{r}"))
    finally:
        driver.stop()
    report = BenchReport(
        f"recorder: {messages:,} market-data messages over aeron:ipc, median of {rounds} round(s)"
    )
    report.cases.append(
        BenchCase(
            name="messages journaled per second (tethered recorder, fsync batch 1 s)",
            unit="msg/s",
            value={"value": statistics.median(rates["recorder"])},
            baseline_name="raw pyaeron poll, counting only",
            baseline={"value": statistics.median(rates["raw"])},
        )
    )
    report.cases.append(
        BenchCase(
            name="messages journaled per second, against the journal writer alone",
            unit="msg/s",
            value={"value": statistics.median(rates["recorder"])},
            baseline_name="JournalWriter.append alone, same messages and policy, no bus",
            baseline={"value": statistics.median(rates["append"])},
        )
    )
    pct = per_message.percentiles()
    report.cases.append(
        BenchCase(
            name="recorder duty cycle cost per message (poll + journal append), per busy cycle",
            unit="ns/msg",
            value={k: float(pct[k]) for k in ("p50", "p99", "p99.9")},
            baseline_name="raw pyaeron poll, counting only (mean)",
            baseline={"p50": 1e9 / statistics.median(rates["raw"])},
        )
    )
    report.notes.append(
        f"per round: raw {_fmt(rates['raw'])}; recorder {_fmt(rates['recorder'])}; "
        f"append alone {_fmt(rates['append'])}"
    )
    report.notes.extend(notes[:1])
    report.notes.append(f"{os.cpu_count()} CPUs shared by the driver, the publisher and this process")
    return report


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


def _spawn_flood(instance: str, count: int) -> subprocess.Popen[str]:
    return spawn_worker("core.bench.recorder", "flood", "--instance", instance, "--count", str(count))


def _finish(worker: subprocess.Popen[str]) -> None:
    finish_worker(worker, "flood worker", _TIMEOUT_S)


def _raw_round(instance: str, count: int) -> float:
    stream = load_bus_config().stream(STREAM)
    aeron = pyaeron.Aeron(
        context=pyaeron.Context(dir=str(instance_dir(instance)), error_handler=lambda c, m: None)
    )
    try:
        sub = aeron.add_subscription(stream.subscription_channel(), stream.stream_id)
        got = [0]
        first = [0]

        def on_fragment(buffer: Any, header: Any) -> None:
            if got[0] == 0:
                first[0] = time.perf_counter_ns()
            got[0] += 1

        worker = _spawn_flood(instance, count)
        try:
            idle = backoff()
            deadline = time.monotonic() + _TIMEOUT_S
            while got[0] < count and time.monotonic() < deadline:
                idle.idle(sub.poll(on_fragment, 256))
            elapsed = time.perf_counter_ns() - first[0]
        finally:
            _finish(worker)
    finally:
        aeron.close()
    return count / (elapsed / 1e9)


def _recorder_round(
    instance: str, count: int, data_dir: Path, per_message: LatencyRecorder
) -> tuple[float, str]:
    bus = BusClient(instance, role_name="bench-recorder")
    agent = RecorderAgent(bus, RecorderConfig(streams=(STREAM,), data_dir=data_dir), instance, SystemClock())
    bus.connect()
    agent.on_start()
    try:
        worker = _spawn_flood(instance, count)
        try:
            idle = backoff()
            deadline = time.monotonic() + _TIMEOUT_S
            clock = time.perf_counter_ns
            first = 0
            while agent.totals.recorded < count and time.monotonic() < deadline:
                t0 = clock()
                before = agent.totals.recorded
                work = bus.do_work() + agent.do_work()
                done = agent.totals.recorded - before
                if done:
                    if first == 0:
                        first = t0
                    per_message.record((clock() - t0) // done)
                idle.idle(work)
            elapsed = clock() - first
        finally:
            _finish(worker)
        recorded = agent.totals.recorded
    finally:
        agent.on_close()
        bus.close()
    assert agent.path is not None
    size = sum(p.stat().st_size for p in agent.path.iterdir())
    kept = sum(1 for _ in JournalReader(agent.path).scan())
    note = f"journal: {kept:,} records, {size / kept:.0f} bytes per record on disk"
    return recorded / (elapsed / 1e9), note


def _append_round(count: int, path: Path) -> float:
    """The journal writer alone: what the recorder's appends cost without the bus."""
    payloads = flood_payloads(4096)
    config = RecorderConfig()
    writer = JournalWriter(
        path, schema_id=SCHEMA_ID, schema_version=SCHEMA_VERSION, instance="bench", fsync=config.fsync
    )
    try:
        append = writer.append
        now = time.time_ns
        t0 = time.perf_counter_ns()
        for i in range(count):
            append(payloads[i & 4095], stream_id=20, receive_time_ns=now(), session_id=1, position=i * 128)
        elapsed = time.perf_counter_ns() - t0
    finally:
        writer.close()
    return count / (elapsed / 1e9)


def _flood(instance: str, count: int) -> int:
    """Publish `count` messages as fast as the stream takes them (retrying back pressure)."""
    payloads = flood_payloads(4096)
    with BusClient(instance, role_name="bench-flood") as bus:
        pub = bus.publisher(STREAM)
        deadline = time.monotonic() + _TIMEOUT_S
        while not pub.is_connected:
            if time.monotonic() > deadline:
                return 1
            time.sleep(0.001)
        offer = pub.offer
        for i in range(count):
            payload = payloads[i & 4095]
            while not offer(payload):
                pass
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m core.bench.recorder")
    sub = parser.add_subparsers(dest="mode", required=True)
    flood = sub.add_parser("flood")
    flood.add_argument("--instance", required=True)
    flood.add_argument("--count", type=int, required=True)
    sub.add_parser("run").add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.mode == "flood":
        return _flood(args.instance, args.count)
    print(run_recorder_bench(quick=args.quick).to_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
