"""Binance capture replay rate end to end into the bus, against raw pyaeron in the same run.

    report = run_mdreplay_bench()             # or: aerodesk bench mdreplay [--quick] [--data FILE]

- Replay: a real desk (supervisor, media driver, one md daemon with the idle strategy of the demo
  profile's md) replays the USD-M capture through the Binance adapter's book-sync rules at speed "max";
  this process subscribes to market_data (tethered: nothing is lost, the md daemon waits for it) and
  counts every message until the FeedState Ended. Rate = messages / time from the first to the Ended.
- Baseline: a child process publishes the same number of messages of the same sizes, in the same
  order, with raw pyaeron offer over aeron:ipc; this process counts them with a raw pyaeron poll.
- Feed alone (not --quick): the same file through the same feed code in this process, with no bus: how
  much of the replay time is parsing and book sync rather than the bus.

The capture defaults to ../shared/data/binance-ws-capture-hftbacktest/usdm/btcusdt_20240808.gz beside
the repository; a missing file is a clear FileNotFoundError (pass `data`).
"""

from __future__ import annotations

import argparse
import array
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pyaeron

from core.agent.idle import IdleStrategy, parse_idle_strategy
from core.bench.deskrun import BenchDesk, bench_workspace, cpu_text, member_or_daemon
from core.bench.report import BenchCase, BenchReport
from core.bench.workers import REPO_ROOT, finish_worker, raw_aeron_client, spawn_worker
from core.bus import BusClient, StreamConfig, aerodesk_dispatcher, spawn_driver
from core.bus.config import load_bus_config
from core.codec.messages import FeedState, decode
from core.config import Table
from core.daemons.md_feeds import load_feed, static_data
from core.daemons.profile import load_profile
from core.marketdata.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    TradeEvent,
)

CAPTURE = Path("binance-ws-capture-hftbacktest") / "usdm" / "btcusdt_20240808.gz"
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / CAPTURE
FRAGMENTS = 256
_PUBLISHED = (BookSnapshotEvent, BookDeltaEvent, TradeEvent, FeedStateEvent)  # events md publishes
_SILENCE_TIMEOUT_S = 120.0  # a hang guard: no message for this long means the replay is stuck
_RUN_TIMEOUT_S = 600.0


def capture_path(data: str | Path | None = None) -> Path:
    path = Path(data).expanduser() if data else DEFAULT_DATA
    if not path.is_file():
        where = "given" if data else "default"
        raise FileNotFoundError(
            f"the Binance capture ({where} path) is not at {path}: the md replay benchmark needs the real "
            f"recording ({CAPTURE}); pass its path (aerodesk bench mdreplay --data FILE)"
        )
    return path


def run_mdreplay_bench(quick: bool = False, data: str | None = None) -> BenchReport:
    path = capture_path(data)
    load_before = os.getloadavg()
    demo = load_profile("demo")
    md_idle = member_or_daemon(demo, "md").idle_strategy
    report = BenchReport(f"md replay: {path.name} (Binance USD-M capture) into the bus at speed max")
    with bench_workspace("mdreplay") as work:
        profile = work.profile("mdreplay", _profile(path, md_idle, demo.heartbeat_interval_ms))
        replay = _replay(profile)
    sizes = replay.pop("sizes")
    baseline = _raw_baseline(sizes, md_idle)
    report.cases.append(
        BenchCase(
            name=f"md daemon replay into the bus, {len(sizes):,} messages, counted by a Subscriber",
            unit="msg/s",
            value={"value": replay["rate"]},
            baseline_name=f"raw pyaeron offer/poll process to process, same {len(sizes):,} sizes",
            baseline={"value": baseline},
        )
    )
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(replay["kinds"].items()))
    report.notes.append(
        f"messages: {kinds}; {sum(sizes):,} bytes, {min(sizes)}..{max(sizes)} B each; replay "
        f"{replay['seconds']:.2f} s from the first message to the FeedState Ended"
    )
    report.notes.append(
        f"replay / raw = {replay['rate'] / baseline:.2%}: the replay is bound by the md daemon's own work "
        "(reading and parsing the JSON capture, the adapter's book sync, its own book, SBE encoding)"
    )
    report.notes.append(f"CPU during the replay: {cpu_text(replay['cpu'])}")
    report.notes.append(f"md idle strategy {md_idle} (as the demo profile's md); baseline receiver the same")
    if not quick:
        events, published, seconds = _feed_alone(path)
        report.cases.append(
            BenchCase(
                name="the same feed code in this process, no bus: parse + book sync only",
                unit="msg/s",
                value={"value": published / seconds},
                baseline_name="md daemon replay into the bus",
                baseline={"value": replay["rate"]},
            )
        )
        report.notes.append(
            f"feed alone: {events:,} events in {seconds:.2f} s, of which {published:,} become bus messages "
            "(venue top-of-book events do not); its rate counts those"
        )
    load_after = os.getloadavg()
    report.notes.append(
        f"host: {os.cpu_count()} CPUs; 1-minute load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after (a busy host starves the md daemon: see its CPU share above)"
    )
    return report


def _profile(path: Path, idle: str, heartbeat_ms: int) -> str:
    return (
        "# written by core/bench/mdreplay.py\n[desk]\n"
        'description = "bench: one md daemon replaying a Binance capture at speed max"\n'
        f"heartbeat_interval_ms = {heartbeat_ms}\nheartbeat_timeout_ms = {max(10 * heartbeat_ms, 3000)}\n"
        "startup_timeout_ms = 60000\nstop_timeout_ms = 10000\n\n"
        f'[[daemon]]\nname = "md"\nkind = "md"\nidle_strategy = {json.dumps(idle)}\nrestart = "never"\n'
        "[daemon.config]\n"
        f'feed = "binance"\npath = {json.dumps(str(path))}\nspeed = "max"\nsnapshot_interval_ms = 0\n'
        "wait_for_subscriber = true\n"
    )


def _replay(profile: Path) -> dict[str, Any]:
    sizes = array.array("I")
    kinds: dict[str, int] = {}
    state = {"ended": False, "first": 0.0, "last": 0.0}

    def on_message(frame: bytes, _header: Any) -> None:
        now = time.perf_counter()
        if not sizes:
            state["first"] = now
        state["last"] = now
        sizes.append(len(frame))
        template = int.from_bytes(frame[2:4], "little")
        kinds[template] = kinds.get(template, 0) + 1
        if template == FeedState.TEMPLATE_ID and int(decode(frame).status) == FeedStatus.ENDED:
            state["ended"] = True

    with BenchDesk(profile, "mdreplay") as desk:
        meter = desk.cpu_meter()
        bus = BusClient(desk.instance, role_name="bench-mdreplay").connect()
        try:
            meter.start()
            sub = bus.subscriber("market_data", aerodesk_dispatcher(default_handler=on_message))
            idle = parse_idle_strategy("backoff")
            silent_since = time.monotonic()
            while not state["ended"]:
                work = sub.poll(FRAGMENTS)
                if work:
                    silent_since = time.monotonic()
                elif time.monotonic() - silent_since > _SILENCE_TIMEOUT_S:
                    raise RuntimeError(
                        f"md replay: no market data for {_SILENCE_TIMEOUT_S:.0f} s after {len(sizes)} "
                        f"messages; see the md log in {desk.log_dir()}"
                    )
                idle.idle(work)
            cpu = meter.stop()
        finally:
            bus.close()
    seconds = state["last"] - state["first"]
    names = {t: decode_name(t) for t in kinds}
    return {
        "rate": (len(sizes) - 1) / seconds if seconds > 0 else 0.0,
        "seconds": seconds,
        "sizes": list(sizes),
        "kinds": {names[t]: n for t, n in kinds.items()},
        "cpu": cpu,
    }


def decode_name(template_id: int) -> str:
    from core.codec import messages

    for name in messages.__all__:
        cls = getattr(messages, name)
        if getattr(cls, "TEMPLATE_ID", None) == template_id and hasattr(cls, "BLOCK_LENGTH"):
            return name
    return f"template {template_id}"


# -- the raw baseline ---------------------------------------------------------------------------------
def _baseline_stream() -> StreamConfig:
    md = load_bus_config().stream("market_data")  # the same term length as the desk's market data
    return StreamConfig("bench_mdreplay", "aeron:ipc", 1201, md.term_length)


def _raw_baseline(sizes: list[int], idle_spec: str) -> float:
    stream = _baseline_stream()
    instance = f"bench-mdraw-{uuid.uuid4().hex[:8]}"
    driver = spawn_driver(instance)
    with tempfile.NamedTemporaryFile(prefix="aerodesk-mdreplay-sizes-") as f:
        array.array("I", sizes).tofile(f)
        f.flush()
        try:
            aeron = raw_aeron_client(instance)
            try:
                sub = aeron.add_subscription(stream.subscription_channel(), stream.stream_id)
                sender = spawn_worker(
                    "core.bench.mdreplay",
                    *("send", "--instance", instance, "--sizes", f.name, "--idle", idle_spec),
                )
                try:
                    return _receive(sub, len(sizes), parse_idle_strategy(idle_spec), sender)
                finally:
                    finish_worker(sender, "md replay baseline sender", _RUN_TIMEOUT_S)
            finally:
                aeron.close()
        finally:
            driver.stop()


def _receive(sub: Any, count: int, idle: IdleStrategy, sender: subprocess.Popen[str]) -> float:
    got = [0]

    def counted(_buffer: Any, _header: Any) -> None:
        got[0] += 1

    deadline = time.monotonic() + _RUN_TIMEOUT_S
    while got[0] == 0:
        idle.idle(sub.poll(counted, FRAGMENTS))
        if sender.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"md replay baseline: the sender sent nothing (exit code {sender.poll()})")
    t0 = time.perf_counter()
    while got[0] < count:
        idle.idle(sub.poll(counted, FRAGMENTS))
        if time.monotonic() > deadline:
            raise RuntimeError(f"md replay baseline: {got[0]} of {count} messages arrived")
    return (count - 1) / (time.perf_counter() - t0)


def _send(instance: str, sizes_file: Path, idle: IdleStrategy) -> None:
    sizes = array.array("I")
    with sizes_file.open("rb") as f:
        sizes.frombytes(f.read())
    stream = _baseline_stream()
    aeron = raw_aeron_client(instance)
    try:
        pub = aeron.add_exclusive_publication(stream.publication_channel(), stream.stream_id)
        while not pub.is_connected:
            time.sleep(0.001)
        frame = memoryview(bytearray(max(sizes)))
        offer = pub.offer
        for size in sizes:
            view = frame[:size]
            if offer(view) is not True:
                while offer(view) is not True:
                    idle.idle(0)
                idle.reset()
    finally:
        aeron.close()


# -- the feed alone -----------------------------------------------------------------------------------
def _feed_alone(path: Path) -> tuple[int, int, float]:
    """(events, events that become bus messages, seconds) of the feed polled flat out in this process."""
    t = Table({"feed": "binance", "path": str(path), "speed": "max"}, REPO_ROOT / "<bench>", "config")
    feed = load_feed(t, static_data(t))
    events = published = 0
    t0 = time.perf_counter()
    feed.start(0)
    try:
        while not feed.finished:
            batch = feed.poll(0, 512)
            events += len(batch)
            published += sum(1 for e in batch if isinstance(e, _PUBLISHED))
    finally:
        feed.close()
    return events, published, time.perf_counter() - t0


def _main() -> int:
    parser = argparse.ArgumentParser(prog="python -m core.bench.mdreplay")
    parser.add_argument("mode", choices=["send"])
    parser.add_argument("--instance", required=True)
    parser.add_argument("--sizes", type=Path, required=True)
    parser.add_argument("--idle", default="backoff")
    a = parser.parse_args()
    try:
        _send(a.instance, a.sizes, parse_idle_strategy(a.idle))
    except pyaeron.AeronError as e:
        print(f"sender: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
