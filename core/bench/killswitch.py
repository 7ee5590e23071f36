"""Kill-switch latency end to end over the bus: from `kill` to zero working orders, with resting orders.

    report = run_killswitch_bench()           # or: aerodesk bench killswitch [--quick] [--json]

A real desk (media driver, supervisor, oms with its WAL fsynced per record, simulated venue with no
added latency, synthetic market) on a throwaway instance and data directory, started and stopped by
this benchmark. A control client in this process places `resting` limit orders far from the market,
waits until the venue has acknowledged every one, then sends KillSwitch Engage and measures:
- to the first ack (InProgress: the oms journaled the command and sent every cancel);
- to the final ack (Done: the venue confirmed every cancel, each confirmation journaled; no order is
  left working), which is what `aerodesk kill` waits for.
Then it releases the switch and starts again (`runs` times). Baseline, same desk, same run: a kill
with nothing working (one journaled command, one ack), the fixed cost of the round trip. The engine
alone (no bus, no WAL) is in `aerodesk bench oms`. Nothing here is a pass/fail threshold.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.bus.instance import instance_dir
from core.codec.messages import AckStatus, OrdType, QueryType, Side, TimeInForce
from core.control.client import ControlClient, Reply
from core.control.session import control_session
from core.supervisor import ops

ETH = 2  # ETH-USD in the shipped static data: price 1e-2, quantity 1e-3
FAR_BID = 200_000  # 2000.00, a third under the synthetic market: rests
QTY = 10  # 0.010 ETH
TIMEOUT_S = 120.0  # a hang guard, not a limit

_PROFILE = """\
[desk]
description = "bench: kill switch over the bus"
idle_strategy = "backoff:50us"
heartbeat_interval_ms = 250
heartbeat_timeout_ms = 15000
startup_timeout_ms = 60000
stop_timeout_ms = 10000

[[daemon]]
name = "oms"
kind = "oms"
[daemon.config]
risk = "risk.toml"
fsync = "{fsync}"

[[daemon]]
name = "exec-sim"
kind = "exec"
[daemon.config]
venue = "sim"
order_latency_us = 0
report_latency_us = 0

[[daemon]]
name = "md"
kind = "md"
[daemon.config]
feed = "synthetic"
seed = 11
"""

_RISK = """\
[desk]
currency = "USD"
account_id = 1
[fx]
USDT = "1"
[limits]
max_order_notional = "100000000"
price_band_bps = "5000"
order_rate = 1000000
order_rate_window_ms = 1000
max_open_orders = 1000000
max_gross_exposure = "1000000000"
cancel_retry_ms = 5000
[instruments.ETH-USD]
max_order_qty = "100"
max_position = "1000000"
"""


def run_killswitch_bench(
    quick: bool = False, resting: int | None = None, runs: int | None = None, fsync: str = "every-record"
) -> BenchReport:
    resting = resting if resting is not None else (200 if quick else 1_000)
    runs = runs if runs is not None else (2 if quick else 5)
    baseline_runs = 10 if quick else 30
    report = BenchReport(
        f"kill switch over the bus: {resting:,} resting orders, {runs} runs, WAL fsync {fsync}"
    )
    with _bench_desk(fsync) as instance, control_session(instance, 30.0, tool="bench") as client:
        done, first, base = LatencyRecorder(), LatencyRecorder(), LatencyRecorder()
        for _ in range(baseline_runs):
            base.record(_kill(client)[1])
            _release(client)
        for _ in range(runs):
            _place(client, resting)
            to_first, to_done = _kill(client)
            first.record(to_first)
            done.record(to_done)
            left = sum(len(p.orders) for p in client.query(QueryType.Orders, TIMEOUT_S))
            if left:
                raise RuntimeError(f"the kill ended with {left} working orders")
            _release(client)
    b = _pct(base)
    report.cases.append(
        BenchCase(
            f"`kill` to zero working orders ({resting:,} resting)",
            "ns",
            _pct(done),
            "kill, nothing working",
            b,
        )
    )
    report.cases.append(
        BenchCase(
            f"`kill` to its first ack ({resting:,} cancels sent)",
            "ns",
            _pct(first),
            "kill, nothing working",
            b,
        )
    )
    report.notes.append(
        f"WAL fsync {fsync}: a kill journals 1 + {resting:,} inputs (the command, each venue confirmation); "
        "with every-record each is on disk before it acts"
    )
    report.notes.append("desk: oms + sim venue (no added latency) + synthetic market; no recorder")
    return report


def _kill(client: ControlClient) -> tuple[int, int]:
    """(ns to the first ack, ns to the final ack) of one Engage."""
    t0 = time.monotonic_ns()
    cid = client.send_kill("bench")
    stamps: dict[str, int] = {}

    def seen(reply: Reply) -> None:
        stamps.setdefault("first", time.monotonic_ns())

    reply = client.wait(cid, lambda r: r.final, TIMEOUT_S, progress=seen)
    t_done = time.monotonic_ns()
    if reply.last_ack.status != AckStatus.Done:
        raise RuntimeError(f"kill not done: {reply.last_ack.text}")
    client.forget(cid)
    return stamps.get("first", t_done) - t0, t_done - t0


def _release(client: ControlClient) -> None:
    cid = client.send_release("bench: next run")
    client.wait_ack(cid, TIMEOUT_S)
    client.forget(cid)


def _place(client: ControlClient, n: int) -> None:
    """n resting orders, acknowledged by the venue."""
    cids = [
        client.send_new_order(
            instrument_id=ETH,
            side=Side.Buy,
            qty=QTY,
            price=FAR_BID - i % 100,
            ord_type=OrdType.Limit,
            tif=TimeInForce.GTC,
        )
        for i in range(n)
    ]
    for cid in cids:
        reply = client.wait(
            cid, lambda r: any(int(x.ordStatus) == 1 for x in r.reports) or r.final, TIMEOUT_S
        )
        if reply.final:
            raise RuntimeError(f"a resting order was refused: {reply.last_ack.text}")
        client.forget(cid)


def _pct(rec: LatencyRecorder) -> dict[str, float]:
    return {k: float(v) for k, v in rec.percentiles().items()}


class _bench_desk:
    """A desk on a throwaway instance and data directory; always stopped and removed after."""

    def __init__(self, fsync: str) -> None:
        self.fsync = fsync
        self.instance = f"bench-ks-{uuid.uuid4().hex[:8]}"
        self.tmp = Path(tempfile.mkdtemp(prefix="aerodesk-bench-ks-"))
        self._env: str | None = None

    def __enter__(self) -> str:
        (self.tmp / "risk.toml").write_text(_RISK)
        profile = self.tmp / "bench.toml"
        profile.write_text(_PROFILE.format(fsync=self.fsync))
        self._env = os.environ.get("AERODESK_DATA")
        os.environ["AERODESK_DATA"] = str(self.tmp / "data")
        try:
            outcome = ops.up(str(profile), self.instance, detach=True, info=lambda _m: None)
            if outcome.code != 0:
                raise RuntimeError(f"the benchmark desk did not start: {outcome.message}")
        except BaseException:
            self.__exit__()
            raise
        return self.instance

    def __exit__(self, *_exc: object) -> None:
        try:
            ops.down(self.instance, info=lambda _m: None)
        finally:
            if self._env is None:
                os.environ.pop("AERODESK_DATA", None)
            else:
                os.environ["AERODESK_DATA"] = self._env
            shutil.rmtree(instance_dir(self.instance), ignore_errors=True)
            shutil.rmtree(self.tmp, ignore_errors=True)
