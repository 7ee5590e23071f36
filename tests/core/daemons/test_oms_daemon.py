"""The oms daemon as a real process on a real media driver, started directly (`python -m core.daemons run
oms`) so each test can set up what it is about: a WAL on a file-size limit (real EFBIG write errors), a
risk file changed between two runs, a second oms on a locked WAL, a damaged WAL, garbage on its streams.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.bus import BusClient, instance_dir, spawn_driver
from core.codec.messages import (
    AckStatus,
    BookSnapshot,
    DaemonState,
    Heartbeat,
    NewOrder,
    OperatorIdentity,
    OrdType,
    Reason,
    RiskEventType,
    Side,
    TimeInForce,
)
from core.control.errors import WAL_REFUSAL
from core.control.session import control_session
from core.daemons.oms.store import WalStore
from core.journal import wal_dir
from core.oms.wal import replay_wal
from core.supervisor.monitor import HeartbeatMonitor
from core.supervisor.ops import observe_heartbeats
from tests.core.daemons.busio import Collector, pump
from tests.desk import PROFILES, REPO_ROOT
from tests.e2e.cli import DeskCli

SAFETY_TIMEOUT_S = 90.0  # a hang guard, not a performance limit
ETH = 2


def wait_for[T](probe: Callable[[], T], what: str, timeout: float = SAFETY_TIMEOUT_S) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


class OmsProcess:
    """One oms daemon process of a profile, with its own data directory (hence its own WAL)."""

    def __init__(self, instance: str, profile: Path, data_dir: Path, log: Path) -> None:
        self.instance, self.profile, self.data_dir, self.log_path = instance, profile, data_dir, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, file_size_limit: int | None = None) -> OmsProcess:
        def limit() -> None:  # in the child: writes past this size fail with EFBIG (SIGXFSZ is ignored)
            if file_size_limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

        cmd = [sys.executable, "-m", "core.daemons", "run", "oms", "--instance", self.instance]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*cmd, "--profile", str(self.profile), "--log-level", "INFO"],
                cwd=REPO_ROOT,
                env={**os.environ, "AERODESK_DATA": str(self.data_dir)},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                preexec_fn=limit,
            )
        return self

    def answering(self) -> DeskCli:
        cli = DeskCli(self.instance, str(self.data_dir))
        wait_for(
            lambda: self.exited() is None and cli("orders", "--timeout", "1").code == 0, "the oms to answer"
        )
        return cli

    def exited(self) -> int | None:
        assert self.process is not None
        return self.process.poll()

    def wait_exit(self) -> int:
        assert self.process is not None
        return self.process.wait(SAFETY_TIMEOUT_S)

    def stop(self) -> int | None:
        p = self.process
        if p is None or p.poll() is not None:
            return None if p is None else p.returncode
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"test-oms-{uuid.uuid4().hex[:8]}"
    driver = spawn_driver(name, log_path=tmp_path_factory.mktemp("driver") / "driver.log")
    try:
        yield name
    finally:
        driver.stop()
        shutil.rmtree(instance_dir(name), ignore_errors=True)


@pytest.fixture
def oms_procs(instance: str, tmp_path: Path) -> Iterator[Callable[..., OmsProcess]]:
    started: list[OmsProcess] = []

    def make(profile: Path = PROFILES / "oms_alone.toml", data_dir: Path | None = None) -> OmsProcess:
        p = OmsProcess(instance, profile, data_dir or tmp_path / "data", tmp_path / f"oms-{len(started)}.log")
        started.append(p)
        return p

    try:
        yield make
    finally:
        for p in started:
            p.stop()


def publish_reference(instance: str, bid: int = 299_900, ask: int = 300_100) -> None:
    """One ETH-USD book on market_data, for the oms's price checks (there is no md daemon here)."""
    with BusClient(instance, role_name="test-md") as bus:
        pub = bus.publisher("market_data")
        frame = BookSnapshot.encode_bytes(
            instrumentId=ETH,
            seq=1,
            venueSeq=0,
            exchangeTs=time.time_ns(),
            receiveTs=time.time_ns(),
            publishTs=time.time_ns(),
            bids=[(bid, 1_000, 1)],
            asks=[(ask, 1_000, 1)],
        )
        wait_for(lambda: pub.offer(frame) is True, "the oms to take market data")


def oms_heartbeat(instance: str) -> Any:
    return wait_for(lambda: observe_heartbeats(instance, {}, 0.5).get("oms"), "an oms heartbeat")


# -- a WAL that cannot be written ---------------------------------------------------------------------------
def test_a_wal_write_error_refuses_requests_and_loses_no_journaled_state(oms_procs, instance: str) -> None:
    oms = oms_procs().start(file_size_limit=16_384)
    oms.answering()
    publish_reference(instance)
    accepted = 0
    refusal: Any = None
    with control_session(instance, 10.0, tool="test") as client:
        for _ in range(500):
            cid = client.send_new_order(
                instrument_id=ETH, side=Side.Buy, qty=100, price=290_000, ord_type=OrdType.Limit
            )
            ack = client.wait_ack(cid, 10.0, final=False).acks[0]
            if ack.status != AckStatus.Accepted:
                refusal = ack
                break
            accepted += 1
    assert refusal is not None, "the WAL never failed: is the file-size limit in force?"
    assert refusal.status == AckStatus.Refused and refusal.text.startswith(WAL_REFUSAL), refusal
    assert "File too large" in refusal.text and accepted > 10

    cli = DeskCli(instance, str(oms.data_dir))
    run = cli("order", "new", "ETH-USD", "buy", "0.1", "--price", "2900")
    assert run.code == 4 and WAL_REFUSAL in run.stderr, run  # unhealthy, with the oms's reason
    # Engaging the kill switch is never refused: journaled if the record still fits, else applied anyway.
    kill = cli("kill", "--reason", "disk full", "--timeout", "4")
    # No venue is connected here to confirm the cancels, so it waits for working orders to go in vain.
    assert kill.code == 1 and "working orders" in kill.stderr, kill
    assert cli.risk()["kill_switch"]["engaged"] is True
    hb = oms_heartbeat(instance)
    assert hb.state == "Degraded"
    assert hb.counters["oms.wal.errors"] > 0 and hb.counters["oms.wal.refused"] >= 2
    assert oms.exited() is None  # never dies of it

    oms.stop()
    again = oms_procs().start()  # the same WAL, no limit: exactly the journaled orders come back
    cli = again.answering()
    hb_before = hb.counters["oms.wal.unjournaled_kills"]
    orders = cli.orders()
    if hb_before:  # the kill did not fit: replay rebuilds exactly the journaled orders, no kill
        assert len(orders) == accepted and {o["status"] for o in orders} == {"pending-new"}
        assert cli.risk()["kill_switch"]["engaged"] is False
        run = cli("order", "new", "ETH-USD", "buy", "0.1", "--price", "2900", "--timeout", "4")
        assert run.code == 1 and "Accepted: order" in run.stderr  # taken again; no venue here to ack it
    else:  # the kill fitted in the WAL: it is back, latched
        assert cli.risk()["kill_switch"]["engaged"] is True
    hb = oms_heartbeat(instance)
    assert hb.state == "Running" and hb.counters["oms.wal.replayed"] > accepted


# -- configuration ----------------------------------------------------------------------------------------
def _own_profile(dest: Path) -> Path:
    dest.mkdir()
    for name in ("oms_alone.toml", "oms_risk.toml", "instruments.toml"):
        shutil.copy(PROFILES / name, dest / name)
    return dest / "oms_alone.toml"


def test_risk_toml_changes_apply_as_audited_limit_changes_and_the_wal_keeps_its_copy(
    oms_procs, instance: str, tmp_path: Path
) -> None:
    profile = _own_profile(tmp_path / "profile")
    first = oms_procs(profile).start()
    cli = first.answering()
    limits = {(r["name"], r["instrument"]): r["value"] for r in cli.ok("limits", "ls", "--json").json()}
    assert limits[("max_order_qty", "ETH-USD")] == "100"
    publish_reference(instance)  # an input, so the WAL is not empty (an empty one starts afresh)
    wait_for(lambda: oms_heartbeat(instance).counters["oms.wal.appends"] > 0, "the reference to be journaled")
    first.stop()

    risk = profile.parent / "oms_risk.toml"
    original = risk.read_text()
    changed = original.replace('max_order_qty = "100"', 'max_order_qty = "7.5"').replace(
        "status_interval_ms = 500", "status_interval_ms = 400"
    )
    assert changed != original
    risk.write_text(changed)
    second = oms_procs(profile).start()
    cli = second.answering()
    limits = {(r["name"], r["instrument"]): r["value"] for r in cli.ok("limits", "ls", "--json").json()}
    assert limits[("max_order_qty", "ETH-USD")] == "7.5"
    log = second.log()
    assert "applied as a SetLimit" in log and "status_interval_ms" in log  # the desk setting: kept, said so
    second.stop()

    store = WalStore(wal_dir(instance, second.data_dir))
    assert store.saved_files.risk.read_text() == original  # replay needs the file the WAL began with
    saved = store.load_saved()
    engine = replay_wal(store.wal_dir, saved.catalog, saved.risk, fees=saved.fees, venue_ids=saved.venue_ids)
    assert engine.limits.get("max_order_qty", 0, ETH) == Decimal("7.5")  # the change is a WAL input


def test_a_second_oms_on_the_same_wal_refuses_to_start(oms_procs) -> None:
    first = oms_procs().start()
    first.answering()
    second = oms_procs().start()
    assert second.wait_exit() == 2
    assert "already open for writing" in second.log()
    assert first.exited() is None


def test_a_damaged_wal_stops_the_start_with_what_to_do(oms_procs, instance: str, tmp_path: Path) -> None:
    oms = oms_procs().start()
    cli = oms.answering()
    publish_reference(instance)
    for price in ("2900", "2901", "2902"):
        assert (
            "Accepted"
            in cli("order", "new", "ETH-USD", "buy", "0.1", "--price", price, "--timeout", "4").stderr
        )
    oms.stop()
    segment = next(wal_dir(instance, oms.data_dir).glob("*.seg"))
    data = bytearray(segment.read_bytes())
    data[200] ^= 0xFF  # inside the first record: damage before the end, not a torn tail
    segment.write_bytes(bytes(data))
    again = oms_procs().start()
    assert again.wait_exit() == 2
    log = again.log()
    assert "cannot open the WAL" in log or "cannot replay the WAL" in log


# -- bad input ---------------------------------------------------------------------------------------------
def test_bad_input_is_counted_never_fatal(oms_procs, instance: str) -> None:
    oms = oms_procs().start()
    cli = oms.answering()
    publish_reference(instance)
    good = NewOrder.encode_bytes(
        correlationId=1,
        clientId=99,
        strategyId=0,
        clOrdId=42,
        orderId=0,
        instrumentId=ETH,
        venueId=0,
        side=Side.Buy,
        ordType=OrdType.Limit,
        timeInForce=TimeInForce.GTC,
        flags=0,
        price=290_000,
        qty=100,
        sendTs=0,
        triggerTs=0,
        operator=OperatorIdentity(user="test", host="here", pid=1, tool="pytest"),
    )
    unknown_side = bytearray(good)
    unknown_side[8 + 8 + 4 + 4 + 8 + 8 + 4 + 2] = 9  # side: no such value
    frames = [b"\x01\x02", good[:20], bytes(unknown_side), b"\x08\x00\x17\x00\x00\x00\x01\x00" + bytes(8)]
    with BusClient(instance, role_name="test-garbage") as bus:
        pub = bus.publisher("order_requests")
        wait_for(lambda: pub.is_connected, "order_requests to connect")
        for frame in frames:
            assert pub.offer(frame) is True
    hb = wait_for(
        lambda: (h := oms_heartbeat(instance)) and h.counters.get("oms.rej.InvalidOrder", 0) >= 1 and h,
        "the oms to refuse the order with an unknown side",
    )
    bad = sum(v for k, v in hb.counters.items() if k.startswith("order_requests.bad_"))
    assert bad >= 3  # too short for a header, a block, another schema: counted by the dispatcher
    assert oms.exited() is None
    run = cli("order", "new", "ETH-USD", "buy", "0.1", "--price", "2900", "--timeout", "4")
    assert run.code == 1 and "Accepted: order" in run.stderr  # still taking orders (no venue to ack them)


# -- periodic snapshots ------------------------------------------------------------------------------------
def test_a_killed_oms_restarts_from_its_last_periodic_snapshot(
    oms_procs, instance: str, tmp_path: Path
) -> None:
    profile = _own_profile(tmp_path / "profile")
    text = profile.read_text()
    profile.write_text(
        text.replace("reconcile_timeout_ms = 1000", "reconcile_timeout_ms = 1000\nsnapshot_every = 5")
    )
    oms = oms_procs(profile).start()
    oms.answering()
    publish_reference(instance)
    with control_session(instance, 10.0, tool="test") as client:
        for i in range(12):
            cid = client.send_new_order(
                instrument_id=ETH, side=Side.Buy, qty=100, price=290_000 + i, ord_type=OrdType.Limit
            )
            assert client.wait_ack(cid, 10.0, final=False).acks[0].status == AckStatus.Accepted
    hb = wait_for(
        lambda: (h := oms_heartbeat(instance)).counters["oms.snapshot.saved"] >= 2 and h, "periodic snapshots"
    )
    assert hb.counters["oms.snapshot.failed"] == 0
    assert oms.process is not None
    oms.process.kill()  # no clean stop: only the periodic snapshots are on disk
    oms.wait_exit()

    again = oms_procs(profile).start()
    cli = again.answering()
    assert len(cli.orders()) == 12
    log = again.log()
    resumed = next(line for line in log.splitlines() if "WAL replayed in" in line)
    assert "engine snapshot: used" in resumed, resumed
    replayed, total = (int(x) for x in re.search(r"\((\d+) of its (\d+) records", resumed).groups())
    # at most the tail after the second snapshot the heartbeat counted (at record 10 or later): later
    # ones may land, or not, before the kill, as fast as the loaded machine writes them
    assert total >= 13 and replayed <= total - 2 * 5, resumed


# -- a restart longer than the dead-man interval --------------------------------------------------------
class StrategyHeartbeats:
    """A strategy host's per-strategy heartbeats on the bus, every 100 ms from a thread of its own."""

    def __init__(self, instance: str, strategy_id: int) -> None:
        self.instance, self.strategy_id = instance, strategy_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StrategyHeartbeats:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(SAFETY_TIMEOUT_S)

    def _run(self) -> None:
        with BusClient(self.instance, role_name="test-strategies") as bus:
            pub = bus.publisher("heartbeats")
            seq = 0
            while not self.stopped.wait(0.1):
                bus.do_work()
                pub.offer(
                    Heartbeat.encode_bytes(
                        ts=time.time_ns(),
                        role="strategies",
                        pid=os.getpid(),
                        state=DaemonState.Running,
                        seq=seq,
                        startedTs=0,
                        strategyId=self.strategy_id,
                        counters=(),
                        instance=self.instance.encode(),
                    )
                )
                seq += 1


def test_a_strategy_heard_again_after_a_long_oms_restart_is_not_cancelled(
    oms_procs, instance: str, tmp_path: Path
) -> None:
    """The oms is down for longer than the dead-man interval while the strategy runs: its replayed
    heartbeats are stale, but the strategy has one interval from the start to be heard, and is."""
    profile = _own_profile(tmp_path / "profile")
    risk = profile.parent / "oms_risk.toml"
    risk.write_text(risk.read_text() + '\n[strategies.5]\nname = "mm"\ndeadman_ms = 2000\n')
    with StrategyHeartbeats(instance, 5) as beats, BusClient(instance, role_name="test-watch") as bus:
        oms = oms_procs(profile).start()
        oms.answering()
        wait_for(lambda: oms_heartbeat(instance).counters["oms.in.strategy_hb"] >= 3, "strategy heartbeats")
        oms.stop()
        time.sleep(4.5)  # down for 2.25 dead-man intervals; the strategy keeps beating
        state = Collector(bus, "state")  # what the restarted oms says
        monitor = HeartbeatMonitor(bus)

        def heard(n: int) -> bool:
            hb = monitor.latest.get("oms")
            return hb is not None and hb.pid == again.process.pid and hb.counters["oms.in.strategy_hb"] >= n

        def dead_man() -> list[Any]:
            return [e for e in state.of("RiskEvent") if e.eventType == RiskEventType.DeadManTriggered]

        again = oms_procs(profile).start()
        pump(bus, [state, monitor], lambda: heard(40), "4 s of strategy heartbeats after the restart")
        assert dead_man() == []
        assert again.log().count("dead-man armed for strategies [5]") == 1
        beats.stop()  # the grace is not a reprieve: silence still fires the dead-man
        pump(bus, [state, monitor], dead_man, "the dead-man once the strategy is silent")
        [event] = dead_man()
    assert event.strategyId == 5 and event.reason == Reason.DeadMan
