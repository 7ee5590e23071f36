"""TUI benchmark: the highest market-data rate at which the TUI keeps rendering at >= 10 Hz, its CPU use,
and the event-to-screen delay at that rate.

Set-up (one run): a media driver on a private instance; a publisher process sending BookDelta messages
for one instrument at a set rate, publishTs stamped at send, with a tethered drain subscriber beside it
(the desk's own consumers: they, not the TUI, set the pace, so a TUI that cannot keep up is dropped as it
would be on a desk); the real TUI (AerodeskApp with its DeskLink bus worker, headless, 120x40) in this
process. The rate steps up; at each step the TUI's render rate, fold rate, gaps, CPU (process time over
wall time, both threads) and event-to-screen delay are measured. Event-to-screen: the md publishTs of
the newest message a frame shows, to the moment that frame has been painted (call_after_refresh).

A step is kept up with when the TUI renders at >= 10 Hz, folds >= 90 % of what was published in the
window, and neither loses messages (gaps, rejoins) nor falls behind (market data older than 1 s on
arrival). The figures move with the host's load: run it on a quiet machine, and read them as ratios.
Baseline, same run, same rate: a raw untethered subscriber in this process that only reads publishTs
(no model, no UI), polled with the TUI worker's own idle strategy.

    uv run python -m tui.bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import struct
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from core.agent.idle import backoff
from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.bus import BusClient, aerodesk_dispatcher, spawn_driver
from core.codec.messages import BookDelta, BookSide, BookSnapshot, DaemonState, Heartbeat
from core.instruments import load_instruments
from tui.app import AerodeskApp
from tui.config import TuiConfig
from tui.link import IDLE_MAX_PARK_NS, IDLE_MIN_PARK_NS, DeskLink

RENDER_GOAL_HZ = 10.0
FOLD_SHARE = 0.90  # of what was published in the window (messages in flight at its edges aside)
RATES = (10_000, 30_000, 100_000, 200_000, 300_000, 500_000)
QUICK_RATES = (10_000, 100_000)
INSTRUMENT = 1  # BTC-USD
_SEQ_AT = 8 + 4  # header, instrumentId
_PUBLISH_AT = 8 + 36
_TICK_S = 0.001


# -- the publisher process ---------------------------------------------------------------------------
def _publisher(instance: str, commands: Any, reports: Any) -> None:
    """Runs in its own process: sends BookDeltas at the commanded rate; a tethered drain keeps pace."""
    bus = BusClient(instance, role_name="bench-md").connect()
    drained = [0]
    drain = bus.subscriber(
        "market_data",
        aerodesk_dispatcher(default_handler=lambda _m, _h: drained.__setitem__(0, drained[0] + 1)),
    )
    pub = bus.publisher("market_data")
    snapshot = BookSnapshot.encode_bytes(
        instrumentId=INSTRUMENT,
        seq=1,
        venueSeq=0,
        exchangeTs=0,
        receiveTs=0,
        publishTs=time.time_ns(),
        bids=[(6_000_000 - 50 * i, 1000, 1) for i in range(20)],
        asks=[(6_000_050 + 50 * i, 1000, 1) for i in range(20)],
    )
    frame = bytearray(
        BookDelta.encode_bytes(
            instrumentId=INSTRUMENT,
            seq=2,
            venueSeq=0,
            exchangeTs=0,
            receiveTs=0,
            publishTs=0,
            levels=[(BookSide.Bid, 6_000_000, 1000, 1), (BookSide.Ask, 6_000_050, 1000, 1)],
        )
    )
    qty_at = 8 + BookDelta.BLOCK_LENGTH + 4 + 9  # first level's qty
    beats = bus.publisher("heartbeats")  # the md says it is alive, so the TUI shows a live desk
    beat_seq = 0
    next_beat = 0.0
    pack_q = struct.Struct("<q").pack_into
    pack_Q = struct.Struct("<Q").pack_into
    seq = 1
    rate = 0
    sent = 0
    owed = 0.0
    last = next_tick = time.monotonic()
    while not pub.is_connected:
        time.sleep(0.01)
    while not pub.offer(snapshot):
        time.sleep(0.001)
    while True:
        if commands.poll():
            cmd = commands.recv()
            if cmd is None:
                break
            if int(cmd) != rate:
                rate, owed, last = int(cmd), 0.0, time.monotonic()
            reports.send((sent, drained[0]))
        now = time.monotonic()
        if now >= next_beat:
            beat_seq += 1
            next_beat = now + 0.25
            beats.offer(
                Heartbeat.encode_bytes(
                    ts=time.time_ns(),
                    role="md",
                    pid=os.getpid(),
                    state=DaemonState.Running,
                    seq=beat_seq,
                    startedTs=0,
                    strategyId=0,
                    counters=[("md.published", sent)],
                    instance=instance,
                )
            )
        if rate and now >= next_tick:
            owed = min(owed + rate * (now - last), rate * 0.05)  # a token bucket; never a burst > 50 ms
            last = now
            next_tick = now + _TICK_S
            n = int(owed)
            owed -= n
            for _ in range(n):
                seq += 1
                pack_Q(frame, _SEQ_AT, seq)
                pack_q(frame, _PUBLISH_AT, time.time_ns())
                pack_q(frame, qty_at, 1000 + seq % 500)
                while not pub.offer(frame):
                    drain.poll()
                sent += 1
                if sent % 64 == 0:
                    drain.poll()
        while drain.poll():
            pass
        if not rate:
            time.sleep(_TICK_S)
        elif time.monotonic() < next_tick:
            time.sleep(max(0.0, next_tick - time.monotonic() - 0.0002))
    reports.send((sent, drained[0]))
    bus.close()


class PublisherControl:
    """This side of the publisher's pipes: it answers every command with its running counts."""

    def __init__(self, commands: Any, reports: Any) -> None:
        self.commands = commands
        self.reports = reports
        self.rate = 0

    def set_rate(self, rate: int) -> int:
        self.rate = rate
        return self.published()

    def published(self) -> int:
        self.commands.send(self.rate)  # the same rate again changes nothing; the answer is the count
        sent, _drained = self.reports.recv()
        return sent

    def stop(self) -> None:
        self.commands.send(None)


# -- measurement ---------------------------------------------------------------------------------------
@dataclass
class Step:
    rate: int
    seconds: float
    published: int = 0
    folded: int = 0
    frames: int = 0
    cpu_s: float = 0.0
    worker_cpu_s: float = 0.0
    wall_s: float = 0.0
    gaps: int = 0
    rejoins: int = 0
    worst_lag_ns: int = 0
    delay: LatencyRecorder = field(default_factory=LatencyRecorder)

    @property
    def render_hz(self) -> float:
        return self.frames / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_pct(self) -> float:
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s else 0.0

    @property
    def kept_up(self) -> bool:
        return (
            self.render_hz >= RENDER_GOAL_HZ
            and self.folded >= FOLD_SHARE * self.published
            and self.gaps == 0
            and self.rejoins == 0
            and self.worst_lag_ns < 1_000_000_000
        )


class _FrameClock:
    """For every view the app renders: the delay from the newest md publishTs it shows to the paint."""

    def __init__(self, app: AerodeskApp) -> None:
        self.app = app
        self.step: Step | None = None
        app.on_frame = self.on_frame

    def on_frame(self, view: Any) -> None:
        step = self.step
        if step is None:
            return
        step.frames += 1
        book = view.books.get(INSTRUMENT)
        if book is not None and book.last_publish_ts:
            published = book.last_publish_ts
            self.app.call_after_refresh(lambda: step.delay.record(time.time_ns() - published))


async def _measure_tui(
    instance: str, rates: tuple[int, ...], seconds: float, pub: PublisherControl
) -> list[Step]:
    catalog = load_instruments()
    config = replace(TuiConfig(), risk_refresh_ms=600_000)  # no oms here: do not keep asking
    link = DeskLink(instance, catalog, config)
    app = AerodeskApp(link, catalog, config)
    clock = _FrameClock(app)
    steps: list[Step] = []
    # The app runs as it would in a terminal (headless: rendered, not shown), not under a test pilot,
    # whose waits for idle would pace the screen.
    running = asyncio.create_task(app.run_async(headless=True, size=(120, 40)))
    try:
        deadline = time.monotonic() + 60
        while (view := link.latest_view()) is None or not view.link.connected:
            if time.monotonic() > deadline or running.done():
                raise RuntimeError("the TUI did not connect to the bench desk")
            await asyncio.sleep(0.05)
        for rate in rates:
            step = Step(rate, seconds)
            pub.set_rate(rate)
            await asyncio.sleep(0.5)  # warm-up at the new rate
            model = link.model
            sent0 = pub.published()
            folded0, gaps0, rejoins0 = model.md_received, model.books.gaps, model.rejoins
            cpu0, wall0, worker0 = time.process_time(), time.monotonic(), link.worker_cpu_s
            clock.step = step
            worst = 0
            while time.monotonic() - wall0 < seconds:
                await asyncio.sleep(0.1)
                view = link.latest_view()
                if view is not None:
                    worst = max(worst, view.link.lag_ns)
            clock.step = None
            step.wall_s = time.monotonic() - wall0
            step.cpu_s = time.process_time() - cpu0
            step.worker_cpu_s = link.worker_cpu_s - worker0
            step.published = pub.published() - sent0
            step.folded = model.md_received - folded0
            step.gaps = model.books.gaps - gaps0
            step.rejoins = model.rejoins - rejoins0
            step.worst_lag_ns = worst
            steps.append(step)
            if not step.kept_up and len(steps) >= 2 and not steps[-2].kept_up:
                break  # two failing steps in a row: higher rates will not do better
    finally:
        app.exit()
        await running
    return steps


def _measure_raw(instance: str, rate: int, seconds: float, pub: PublisherControl) -> Step:
    """Baseline: an untethered subscriber that only reads publishTs, in this process, at the same rate."""
    step = Step(rate, seconds)
    bus = BusClient(instance, role_name="bench-raw").connect()
    unpack = struct.Struct("<q").unpack_from
    received = [0]
    delay = step.delay

    def on_message(frame: bytes, _h: Any) -> None:
        received[0] += 1
        if len(frame) > _PUBLISH_AT + 8:
            delay.record(time.time_ns() - unpack(frame, _PUBLISH_AT)[0])

    dispatcher = aerodesk_dispatcher(default_handler=on_message)
    sub = bus.subscriber("market_data", dispatcher, tether=False, fragment_limit=1024)
    stop = threading.Event()

    def poll() -> None:
        idle = backoff(max_spins=1, max_yields=1, min_park_ns=IDLE_MIN_PARK_NS, max_park_ns=IDLE_MAX_PARK_NS)
        while not stop.is_set():
            idle.idle(sub.poll())  # the TUI worker's own idle strategy: a like-for-like baseline

    deadline = time.monotonic() + 30
    while not sub.is_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    pub.set_rate(rate)
    time.sleep(0.5)
    sent0 = pub.published()
    got0 = received[0]
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    step.wall_s = time.monotonic() - wall0
    step.cpu_s = time.process_time() - cpu0
    step.published = pub.published() - sent0
    step.folded = received[0] - got0
    step.rejoins = sub.counters.images_left
    stop.set()
    thread.join(5)
    bus.close()
    return step


def run_tui_bench(quick: bool = False) -> BenchReport:
    rates = QUICK_RATES if quick else RATES
    seconds = 1.5 if quick else 3.0
    instance = f"bench-tui-{os.getpid()}"
    driver = spawn_driver(instance)
    ctx = mp.get_context("spawn")
    cmd_parent, cmd_child = ctx.Pipe()
    rep_child, rep_parent = ctx.Pipe()
    proc = ctx.Process(target=_publisher, args=(instance, cmd_child, rep_child), daemon=True)
    proc.start()
    pub = PublisherControl(cmd_parent, rep_parent)
    try:
        steps = asyncio.run(_measure_tui(instance, rates, seconds, pub))
        kept = [s for s in steps if s.kept_up]
        best = kept[-1] if kept else steps[0]
        raw = _measure_raw(instance, best.rate, seconds, pub)
        pub.set_rate(0)
    finally:
        try:
            pub.stop()
            proc.join(10)
        finally:
            if proc.is_alive():
                proc.kill()
                proc.join(5)
            driver.stop()
    return _report(steps, best, raw, quick)


def _report(steps: list[Step], best: Step, raw: Step, quick: bool) -> BenchReport:
    kept = best.kept_up
    report = BenchReport(
        f"TUI under market data ({'quick' if quick else 'full'}; render goal {RENDER_GOAL_HZ:g} Hz)"
    )
    report.cases.append(
        BenchCase(
            name="highest md rate the TUI keeps up with (render >= 10 Hz, no loss)"
            if kept
            else "no rate kept up with; lowest rate tried",
            unit="msg/s",
            value={"value": float(best.folded / best.wall_s) if best.wall_s else 0.0},
            baseline_name="raw untethered subscriber at that rate (no model, no UI)",
            baseline={"value": float(raw.folded / raw.wall_s) if raw.wall_s else 0.0},
            goal=">= 100k msg/s",
        )
    )
    report.cases.append(
        BenchCase(
            name=f"TUI render rate at {best.rate:,} msg/s",
            unit="Hz",
            value={"value": best.render_hz},
            baseline_name="render goal",
            baseline={"value": RENDER_GOAL_HZ},
            goal=">= 10 Hz",
        )
    )
    report.cases.append(
        BenchCase(
            name=f"TUI CPU at {best.rate:,} msg/s (UI + bus worker threads)",
            unit="% of a core",
            value={"value": best.cpu_pct},
            baseline_name="raw subscriber CPU at that rate",
            baseline={"value": raw.cpu_pct},
        )
    )
    dp = best.delay.percentiles()
    rp = raw.delay.percentiles()
    report.cases.append(
        BenchCase(
            name=f"event-to-screen delay at {best.rate:,} msg/s (md publish -> frame painted)",
            unit="ns",
            value={k: float(dp[k]) for k in ("p50", "p99")},
            baseline_name="md publish -> raw subscriber receive",
            baseline={k: float(rp[k]) for k in ("p50", "p99")},
        )
    )
    for s in steps:
        report.notes.append(
            f"{s.rate:>7,} msg/s target: published {s.published / s.wall_s:,.0f}/s, folded "
            f"{s.folded / s.wall_s:,.0f}/s, render {s.render_hz:.1f} Hz, CPU {s.cpu_pct:.0f} % "
            f"(bus worker {100 * s.worker_cpu_s / s.wall_s:.0f} %), "
            f"gaps {s.gaps}, rejoins {s.rejoins}, worst lag {s.worst_lag_ns / 1e6:.1f} ms, delay p50 "
            f"{s.delay.percentiles()['p50'] / 1e6:.1f} ms p99 {s.delay.percentiles()['p99'] / 1e6:.1f} ms: "
            f"{'kept up' if s.kept_up else 'NOT kept up'}"
        )
    report.notes.append(
        f"baseline at {raw.rate:,} msg/s target: published {raw.published / raw.wall_s:,.0f}/s, received "
        f"{raw.folded / raw.wall_s:,.0f}/s, CPU {raw.cpu_pct:.0f} %, images lost {raw.rejoins}"
    )
    report.notes.append(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tui.bench")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(run_tui_bench(quick=args.quick).to_text())


if __name__ == "__main__":
    main()
