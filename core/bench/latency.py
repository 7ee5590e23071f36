"""Tick-to-order latency of real desks, against raw pyaeron and ZeroMQ relays measured in the same run.

    report = run_latency_bench()                    # or: aerodesk bench latency [--quick] [--busy-spin]

What is measured: from the md daemon's publishTs of a market-data message to the arrival at the exec
gateway of the order it caused, three hops (md -> strategy -> oms -> exec), on one host's epoch clock.
The exec daemon publishes a LatencySample per such order (core/daemons/exec.py); this process collects
them from the heartbeats stream (untethered: it never slows the desk).

The desks are the built-in profiles, started with the supervisor's own `up` on fresh instances (data,
WAL and logs in a temporary directory) and always stopped:
- `demo` ("default" below): every daemon its own process, sleeping on the desk's doorbell (`wake:1ms`);
- `low-latency` (only with busy_spin=True, as it spins a core): md, strategies, oms and exec in one
  composite daemon on one busy-spinning thread; the recorder and the driver share the other core.
Each runs exactly as shipped except two files: the strategy host runs TickProbe strategies
(core/bench/probe.py: one IOC order per book change per sim instrument, at most one per 100 ms each,
never filled) instead of the demo strategies, and the oms's risk file is the shipped one plus those
probes' limits (an order rate the probes stay under). So every order takes the real path: book
building, the strategy callback, risk checks, the WAL (with the profile's fsync policy), the venue.

Baselines, in the same run, at the rate the desk produced samples:
- raw pyaeron: the same three hops with nothing but poll -> offer of a 96-byte timestamped frame
  (core/bench/relay.py): four processes with the idle strategies of the default profile's md, strategy,
  oms and exec daemons (on `wake`, ringing the doorbell after each send as the daemons do); for the
  low-latency profile the four parts on one busy-spinning thread, as its
  composite runs them;
- ZeroMQ: four processes, PAIR sockets over ipc://, json.loads / json.dumps of a dict of the same
  fields at every hop, blocking recv: what one would otherwise build.

CPU: every process of each desk over the measurement window (/proc/<pid>/stat utime + stime deltas),
the relays' own (getrusage over their run loops), and a quiet demo desk (its own strategies, no
benchmark load). Nothing here is pass/fail: goals are printed beside the figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from core.bench.deskrun import (
    BenchDesk,
    Workspace,
    bench_workspace,
    cpu_text,
    member_or_daemon,
    profile_text,
)
from core.bench.relay import ROLES
from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.bench.workers import spawn_worker
from core.bus import BusClient, aerodesk_dispatcher, spawn_driver
from core.codec.messages import ExecType, ExecutionReport, LatencySample, decode
from core.config import configs_dir
from core.daemons.profile import Profile, load_profile
from core.instruments import load_instruments
from core.sim.config import load_venues
from core.supervisor.runtime import instance_paths, read_runtime

PROBE_BASE_ID = 90  # strategy ids of the probes: 90, 91, ...
# At most one order per probe per 100 ms: about 30 orders/s over the sim's three instruments, the order
# flow of a busy market-making desk (the demo's market makers send at most 20/s each). Much more and
# an oms that fsyncs its WAL before every input (fsync every-record: an order and its venue reports)
# queues up: the figure would then measure the queue, not the path.
PROBE_INTERVAL_MS = 100
PROBE_ORDER_RATE = 100  # per probe per second in the bench risk file: above what they send
KEYS = ("p50", "p99", "p99.9", "max")
_KINDS = {"md": "md", "strategy": "strategy", "oms": "oms", "exec": "exec"}  # relay role -> daemon kind
US = 1_000
_FIRST_SAMPLE_TIMEOUT_S = 120.0  # a hang guard: a desk that sends no order for this long is broken
_RELAY_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Settings:
    warmup_s: float  # samples of the first seconds after the first one are not counted
    measure_s: float  # the measurement window (latency samples and CPU)
    quiet_s: float  # CPU window of the quiet demo desk


QUICK = Settings(warmup_s=2.0, measure_s=8.0, quiet_s=5.0)
FULL = Settings(warmup_s=3.0, measure_s=40.0, quiet_s=15.0)


@dataclass
class DeskRun:
    profile: Profile  # the profile the desk ran: the built-in one with the benchmark's two files
    base: str  # the built-in profile's name
    latency: LatencyRecorder = field(default_factory=LatencyRecorder)  # venueAckTs - mdPublishTs
    md_to_strategy: LatencyRecorder = field(default_factory=LatencyRecorder)  # strategySendTs - md
    strategy_to_oms: LatencyRecorder = field(default_factory=LatencyRecorder)  # oms input time - send
    oms_to_exec: LatencyRecorder = field(default_factory=LatencyRecorder)  # venueAckTs - oms input time
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    restarts: list[str] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return int(self.latency.hist.get_total_count())

    @property
    def rate(self) -> float:
        return self.samples / self.seconds if self.seconds else 0.0


@dataclass
class RelayRun:
    what: str
    latency: LatencyRecorder
    cpu: dict[str, float]


def run_latency_bench(
    quick: bool = False,
    busy_spin: bool = False,
    *,
    hot_path_idle: str | None = None,
    oms_fsync: str | None = None,
) -> BenchReport:
    """Tuning aids, for the default profile only (the shipped one runs without them):
    `hot_path_idle` (e.g. "backoff:100us") replaces the idle strategy of its strategy, oms and exec
    daemons (the raw relay follows); `oms_fsync` (e.g. "batch:interval_ms=100") its oms's WAL policy."""
    settings = QUICK if quick else FULL
    load_before = os.getloadavg()
    report = BenchReport(
        "tick-to-order latency: md publish -> strategy -> oms -> exec arrival (3 hops), real desks"
    )
    demo = load_profile("demo")
    tuned = dict.fromkeys(_hot_path_names(demo), hot_path_idle) if hot_path_idle else {}
    profiles = [("default", demo)]
    if busy_spin:
        profiles.append(("low-latency", load_profile("low-latency")))
    runs: dict[str, DeskRun] = {}
    with bench_workspace("latency") as work:
        symbols = _sim_symbols()
        probe_ids = {PROBE_BASE_ID + i for i in range(len(symbols))}
        strategies = work.file("strategies.toml", strategies_toml(symbols))
        risk = work.file("risk.toml", risk_toml(symbols))
        for label, profile in profiles:
            idle = tuned if label == "default" else {}
            fsync = oms_fsync if label == "default" else None
            runs[label] = _measure_desk(
                work, label, profile, strategies, risk, probe_ids, settings, idle, fsync
            )
        quiet = _quiet_desk_cpu(demo, settings)
    default = runs["default"]
    count = max(default.samples, 300)
    warmup = max(int(default.rate * settings.warmup_s), 50)
    raw = _relay_aeron(demo, count, default.rate, warmup, tuned)
    zmq = _relay_zmq(count, default.rate, warmup)
    chain = None
    if busy_spin:
        low = runs["low-latency"]
        chain_idle = _composite_idle(low.profile)
        chain = _relay_chain(chain_idle, max(low.samples, 300), low.rate, max(int(low.rate * 2), 50))

    for label, run in runs.items():
        base = chain if label == "low-latency" else raw
        assert base is not None
        goal = "p50 <= 25 us, p99 <= 100 us" if label == "low-latency" else "p50 <= 250 us"
        value = _percentiles(run.latency)
        report.cases.append(
            BenchCase(
                name=f"{label} profile ({run.base}): {run.samples} orders at {run.rate:.0f}/s",
                unit="ns",
                value=value,
                baseline_name=base.what,
                baseline=_percentiles(base.latency),
                goal=goal,
            )
        )
        if zmq is not None:
            report.cases.append(
                BenchCase(
                    name=f"{label} profile against ZeroMQ (ratio < 1: aerodesk is faster)",
                    unit="ns",
                    value=value,
                    baseline_name=zmq.what,
                    baseline=_percentiles(zmq.latency),
                    goal="<= 0.2x (5x lower p50)" if label == "low-latency" else "<= 1x (no worse)",
                )
            )
        report.cases.append(
            BenchCase(
                name=f"CPU of the {label} desk under the benchmark's order flow, all processes",
                unit="% of one core",
                value={"value": sum(run.cpu.values())},
                baseline_name=f"{base.what}, all processes",
                baseline={"value": sum(base.cpu.values())},
            )
        )
    report.cases.append(
        BenchCase(
            name=f"CPU of a quiet demo desk (its own strategies, no benchmark load), {settings.quiet_s:g} s",
            unit="% of one core",
            value={"value": sum(quiet.values())},
            baseline_name="none (an absolute figure)",
            baseline={},
            goal="< 30 % in total",
        )
    )
    _notes(report, runs, raw, zmq, chain, quiet, settings)
    load_after = os.getloadavg()
    report.notes.append(
        f"host: {os.cpu_count()} CPUs; 1-minute load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after (other work on the host shifts every figure; the ratios are "
        "measured in the same run)"
    )
    return report


# -- the desks ------------------------------------------------------------------------------------
def _sim_symbols() -> list[str]:
    """The instruments of the sim venue the synthetic market quotes (one probe each)."""
    catalog = load_instruments()
    markets = load_venues(instruments=catalog).sim("sim").markets
    return [i.symbol for i in catalog if i.venue == "sim" and i.symbol in markets]


def strategies_toml(symbols: list[str]) -> str:
    lines = [
        "# written by core/bench/latency.py: one tick-to-order probe per instrument",
        "[host]",
        "client_id = 100",
        "heartbeat_interval_ms = 1000",
        'on_error = "disable"',
        "cancel_on_stop = true",
    ]
    for i, symbol in enumerate(symbols):
        lines += [
            "",
            f"[strategies.probe-{i}]",
            f"id = {PROBE_BASE_ID + i}",
            'class = "core.bench.probe:TickProbe"',
            f"[strategies.probe-{i}.params]",
            f"instrument = {json.dumps(symbol)}",
            f"min_interval_ms = {PROBE_INTERVAL_MS}",
        ]
    return "\n".join(lines) + "\n"


def risk_toml(symbols: list[str]) -> str:
    """The shipped risk file, plus the probes: an order rate they stay under, the demo's dead-man."""
    lines = [(configs_dir() / "risk.toml").read_text(), "# the benchmark's probes"]
    for i in range(len(symbols)):
        sid = PROBE_BASE_ID + i
        lines += [
            f"[strategies.{sid}]",
            f'name = "probe-{i}"',
            "deadman_ms = 3000",
            f"order_rate = {PROBE_ORDER_RATE}",
            "max_open_orders = 200",
            "",
        ]
    return "\n".join(lines)


def _hot_path_names(profile: Profile) -> list[str]:
    """The daemons an order passes after the tick: strategy host, oms, exec."""
    return [member_or_daemon(profile, kind).name for kind in ("strategy", "oms", "exec")]


def _bench_profile(
    work: Workspace,
    label: str,
    profile: Profile,
    strategies: Path,
    risk: Path,
    probe_names: list[str],
    idle: dict[str, str],
    oms_fsync: str | None,
) -> Path:
    oms: dict[str, Any] = {"risk": str(risk)}
    if oms_fsync:
        oms["fsync"] = oms_fsync
    configs = {
        member_or_daemon(profile, "strategy").name: {
            "strategies_file": str(strategies),
            "strategies": probe_names,
        },
        member_or_daemon(profile, "oms").name: oms,
    }
    text = profile_text(
        profile,
        configs=configs,
        idle=idle,
        description=f"bench: the {profile.name} profile with tick-to-order probes as its strategies",
    )
    return work.profile(f"latency-{label}", text)


def _measure_desk(
    work: Workspace,
    label: str,
    profile: Profile,
    strategies: Path,
    risk: Path,
    probe_ids: set[int],
    settings: Settings,
    idle: dict[str, str],
    oms_fsync: str | None,
) -> DeskRun:
    names = [f"probe-{i}" for i in range(len(probe_ids))]
    path = _bench_profile(work, label, profile, strategies, risk, names, idle, oms_fsync)
    run = DeskRun(load_profile(path), profile.name)
    state = {"counting": False, "seen": 0}
    counted: list[tuple[int, int, int, int, int]] = []  # strategy, clOrdId, md publish, send, exec arrival
    oms_ts: dict[tuple[int, int], int] = {}  # (strategy, clOrdId) -> the oms's time of the NewOrder

    def on_sample(frame: bytes, _header: Any) -> None:
        m = decode(frame)
        if m.strategyId not in probe_ids:
            return
        state["seen"] += 1
        if state["counting"]:
            counted.append((m.strategyId, m.clOrdId, m.mdPublishTs, m.strategySendTs, m.venueAckTs))

    def on_report(frame: bytes, _header: Any) -> None:
        # The oms's PendingNew of an order carries the time it took the NewOrder in (its input time).
        m = decode(frame)
        if m.execType == ExecType.PendingNew and m.strategyId in probe_ids:
            oms_ts[m.strategyId, m.clOrdId] = m.ts

    with BenchDesk(path, f"lat-{label}") as desk:
        bus = BusClient(desk.instance, role_name="bench-latency").connect()
        try:
            samples = aerodesk_dispatcher(default_handler=_ignore).on(LatencySample.TEMPLATE_ID, on_sample)
            reports = aerodesk_dispatcher(default_handler=_ignore).on(ExecutionReport.TEMPLATE_ID, on_report)
            subs = [
                bus.subscriber("heartbeats", samples, tether=False),
                bus.subscriber("state", reports, tether=False),
            ]
            _pump(subs, lambda: state["seen"] > 0, _FIRST_SAMPLE_TIMEOUT_S, desk, "the first LatencySample")
            _pump(subs, lambda: False, settings.warmup_s)
            meter = desk.cpu_meter()
            meter.start()
            state["counting"] = True
            t0 = time.monotonic()
            _pump(subs, lambda: False, settings.measure_s)
            run.seconds = time.monotonic() - t0
            state["counting"] = False
            run.cpu = meter.stop()
            _pump(subs, lambda: False, 0.2)  # the last orders' reports
        finally:
            bus.close()
        for d in (read_runtime(instance_paths(desk.instance).runtime) or {}).get("daemons", []):
            if d.get("restarts"):
                run.restarts.append(f"{d['name']} restarted {d['restarts']} time(s)")
    for sid, cl, md, send, arrival in counted:
        run.latency.record(arrival - md)
        run.md_to_strategy.record(send - md)
        accepted = oms_ts.get((sid, cl))
        if accepted is not None:
            run.strategy_to_oms.record(accepted - send)
            run.oms_to_exec.record(arrival - accepted)
    if not run.samples:
        raise RuntimeError(f"the {label} desk produced no latency sample in {settings.measure_s:g} s")
    return run


def _ignore(_frame: bytes, _header: Any) -> None:
    pass


def _pump(subs: list[Any], done: Any, seconds: float, desk: BenchDesk | None = None, what: str = "") -> None:
    """Poll `subs` for `seconds` or until done(); with `desk`, not getting there is an error."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() >= deadline:
            if desk is None:
                return
            raise RuntimeError(
                f"desk {desk.instance}: no {what} within {seconds:g} s; logs in {desk.log_dir()}"
            )
        if not sum(sub.poll(256) for sub in subs):
            time.sleep(0.0005)


def _quiet_desk_cpu(demo: Profile, settings: Settings) -> dict[str, float]:
    """The shipped demo desk as a user starts it, idle but for its own synthetic market and strategies."""
    with BenchDesk(demo.path, "quiet") as desk:
        time.sleep(settings.warmup_s)
        meter = desk.cpu_meter()
        meter.start()
        time.sleep(settings.quiet_s)
        return meter.stop()


def _composite_idle(profile: Profile) -> str:
    for spec in profile.daemons:
        if spec.kind == "composite" and any(m.kind == "md" for m in spec.members):
            return spec.idle_strategy
    raise KeyError(f"profile {profile.name} has no composite running md")


# -- the relays -----------------------------------------------------------------------------------
def _relay_aeron(
    profile: Profile, count: int, rate: float, warmup: int, tuned: dict[str, str] | None = None
) -> RelayRun:
    """Each relay role with the idle strategy of the profile's daemon of that kind (or its tuning)."""
    tuned = tuned or {}
    idles = {}
    for role, kind in _KINDS.items():
        spec = member_or_daemon(profile, kind)
        idles[role] = tuned.get(spec.name, spec.idle_strategy)
    instance = f"bench-relay-{uuid.uuid4().hex[:8]}"
    driver = spawn_driver(instance)
    try:
        procs = []
        for role in reversed(ROLES):  # the sink first: each waits for its downstream to subscribe
            procs.append(
                _spawn(
                    ["aeron", "--role", role, "--instance", instance, "--idle", idles[role]],
                    count,
                    rate,
                    warmup,
                )
            )
        results = _collect(procs)
    finally:
        driver.stop()
    spread = sorted(set(idles.values()))
    return _relay_run(f"raw pyaeron 3-hop relay, 4 processes, {'/'.join(spread)}", results)


def _relay_chain(idle: str, count: int, rate: float, warmup: int) -> RelayRun:
    instance = f"bench-relay-{uuid.uuid4().hex[:8]}"
    driver = spawn_driver(instance)
    try:
        args = ["aeron-chain", "--instance", instance, "--idle", idle]
        results = _collect([_spawn(args, count, rate, warmup)])
    finally:
        driver.stop()
    return _relay_run(f"raw pyaeron 3-hop relay, one process, one {idle} thread", results)


def _relay_zmq(count: int, rate: float, warmup: int) -> RelayRun | None:
    try:
        import zmq  # noqa: F401  (a dev dependency)
    except ImportError:
        return None
    with tempfile.TemporaryDirectory(prefix="aerodesk-zmq-") as d:
        procs = []
        for role in reversed(ROLES):
            procs.append(_spawn(["zmq", "--role", role, "--dir", d], count, rate, warmup))
            time.sleep(0.2)  # bound before its upstream connects
        results = _collect(procs)
    return _relay_run("ZeroMQ PAIR ipc:// + JSON 3-hop relay, 4 processes, blocking recv", results)


def _spawn(args: list[str], count: int, rate: float, warmup: int) -> subprocess.Popen[str]:
    return spawn_worker("core.bench.relay", *args, *_run_args(count, rate, warmup), stdout=subprocess.PIPE)


def _run_args(count: int, rate: float, warmup: int) -> list[str]:
    return ["--count", str(count), "--rate", f"{rate:.3f}", "--warmup", str(warmup)]


def _collect(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    """Each relay's JSON line; all are waited for (and killed on a hang) before anything is raised.
    Whatever ends the wait (a hang, an interrupt, a test's timeout), no relay process outlives it."""
    try:
        return _read_results(procs)
    finally:
        for q in procs:
            if q.poll() is None:
                q.kill()
                q.wait()


def _read_results(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    results, errors = [], []
    deadline = time.monotonic() + _RELAY_TIMEOUT_S
    for p in reversed(procs):  # the source first: it ends first
        try:
            out, err = p.communicate(timeout=max(deadline - time.monotonic(), 1.0))
        except subprocess.TimeoutExpired:
            for q in procs:
                if q.poll() is None:
                    q.kill()
            out, err = p.communicate()
            errors.append(f"{p.args}: timed out after {_RELAY_TIMEOUT_S:g} s")
            continue
        if p.returncode != 0:
            errors.append(f"{p.args} exited {p.returncode}: {err.strip()[-2000:]}")
            continue
        results.append(json.loads(out.strip().splitlines()[-1]))
    if errors:
        raise RuntimeError("relay baseline failed: " + "; ".join(errors))
    return results


def _relay_run(what: str, results: list[dict[str, Any]]) -> RelayRun:
    recorder = LatencyRecorder()
    cpu = {}
    for r in results:
        cpu[r["role"]] = 100.0 * r["cpu_s"] / r["wall_s"] if r["wall_s"] else 0.0
        if "hist" in r:
            recorder.hist.add(HdrHistogram.decode(r["hist"].encode("ascii")))
    return RelayRun(what, recorder, cpu)


# -- the report -----------------------------------------------------------------------------------
def _percentiles(rec: LatencyRecorder) -> dict[str, float]:
    p = rec.percentiles()
    return {k: float(p[k]) for k in KEYS}


def _us(p: dict[str, float]) -> str:
    return ", ".join(f"{k} {p[k] / US:,.1f}" for k in KEYS) + " us"


def _notes(
    report: BenchReport,
    runs: dict[str, DeskRun],
    raw: RelayRun,
    zmq: RelayRun | None,
    chain: RelayRun | None,
    quiet: dict[str, float],
    settings: Settings,
) -> None:
    for label, run in runs.items():
        oms = member_or_daemon(run.profile, "oms")
        fsync = oms.config.data.get("fsync", "every-record")
        hot = {s.name: s.idle_strategy for s in (member_or_daemon(run.profile, k) for k in _KINDS.values())}
        report.notes.append(
            f"{label}: tick-to-order {_us(_percentiles(run.latency))}; {run.samples} samples in "
            f"{run.seconds:.1f} s after {settings.warmup_s:g} s of warm-up"
        )
        report.notes.append(
            f"{label}: md publish -> strategy send {_us(_percentiles(run.md_to_strategy))}; "
            f"strategy send -> oms input {_us(_percentiles(run.strategy_to_oms))}; "
            f"oms input -> exec arrival (risk, WAL, venue order) {_us(_percentiles(run.oms_to_exec))}"
        )
        report.notes.append(
            f"{label}: idle {', '.join(f'{n} {i}' for n, i in hot.items())}; oms WAL fsync {fsync}"
            + (f"; {'; '.join(run.restarts)}" if run.restarts else "")
        )
        report.notes.append(f"{label} desk CPU: {cpu_text(run.cpu)}")
        spinning = [s.name for s in run.profile.daemons if s.idle_strategy == "busy-spin"]
        starved = {n: run.cpu[n] for n in spinning if run.cpu.get(n, 100.0) < 80.0}
        if starved:
            got = ", ".join(f"{n} {v:.0f} %" for n, v in starved.items())
            report.notes.append(
                f"{label}: a busy-spinning process got less than 80 % of a core ({got}): the host was "
                "oversubscribed, so its figures say more about the host than about the profile"
            )
    for relay in (raw, chain, zmq):
        if relay is not None:
            report.notes.append(
                f"{relay.what}: {_us(_percentiles(relay.latency))}; CPU {cpu_text(relay.cpu)}"
            )
    if zmq is None:
        report.notes.append(
            "ZeroMQ baseline skipped: pyzmq is not installed (uv sync installs the dev group)"
        )
    report.notes.append(f"quiet demo desk CPU: {cpu_text(quiet)}")
    report.notes.append(
        "the oms input time of an order is read from its PendingNew ExecutionReport (state stream): a "
        "venue NewOrder has no field for it, so exec's LatencySample carries omsAcceptTs = 0"
    )
