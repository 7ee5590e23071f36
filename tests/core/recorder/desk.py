"""Real desks for the recorder and replay tests: a media driver process per instance, recorder daemon
processes, a bus client in the test, and real SBE messages.

Every process is stopped by its own pid at teardown (even when the test fails) and every instance's
/dev/shm directory is gone afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from core.bus import BusClient, DriverProcess, Publisher, aerodesk_dispatcher, instance_dir, spawn_driver
from core.bus.config import CONFIG_ENV
from core.codec.messages import (
    BookDelta,
    DaemonState,
    ExecutionReport,
    Heartbeat,
    NewOrder,
    OperatorIdentity,
    Trade,
)
from core.journal import find_journals
from core.journal.paths import DATA_ENV

REPO_ROOT = Path(__file__).resolve().parents[3]
PROFILES = REPO_ROOT / "tests" / "profiles"
SAFETY_TIMEOUT_S = 60.0  # a hang guard for waits, never a performance limit

# Short untethered timeouts, so a frozen untethered subscriber is dropped within a second.
TEST_CHANNELS = """
[driver]
driver_timeout_ms = 10000
client_liveness_timeout_ms = 10000
untethered_window_limit_timeout_ms = 300
untethered_resting_timeout_ms = 300

[streams.control]
term_length = 65536
"""

OPERATOR = OperatorIdentity(user="test", host="localhost", pid=1, tool="pytest")


def trade(i: int, instrument: int = 1, publish_ts: int = 0) -> bytes:
    return Trade.encode_bytes(
        instrumentId=instrument,
        seq=i + 1,
        tradeId=1000 + i,
        exchangeTs=1_700_000_000_000_000_000 + i,
        receiveTs=1_700_000_000_000_000_100 + i,
        publishTs=publish_ts or 1_700_000_000_000_000_200 + i,
        price=5_000_000 + i,
        qty=1 + i % 7,
        aggressorSide=1 + i % 2,
    )


def book_delta(i: int, instrument: int = 2, levels: int = 3) -> bytes:
    return BookDelta.encode_bytes(
        instrumentId=instrument,
        seq=i + 1,
        venueSeq=900 + i,
        exchangeTs=1_700_000_000_000_000_000 + i,
        receiveTs=1_700_000_000_000_000_100 + i,
        publishTs=1_700_000_000_000_000_200 + i,
        levels=[(1 + j % 2, 300_000 + i + j, 10 + j, j) for j in range(levels)],
    )


def new_order(
    i: int, *, send_ts: int = 0, trigger_ts: int = 0, order_id: int = 0, strategy: int = 7
) -> bytes:
    return NewOrder.encode_bytes(
        correlationId=i,
        clientId=3,
        strategyId=strategy,
        clOrdId=100 + i,
        orderId=order_id,
        instrumentId=1,
        venueId=1,
        side=1,
        ordType=1,
        timeInForce=1,
        flags=0,
        price=5_000_000 + i,
        qty=10,
        sendTs=send_ts,
        triggerTs=trigger_ts,
        operator=OPERATOR,
    )


def execution_report(i: int, *, ts: int = 0, order_id: int = 0, strategy: int = 7, text: str = "") -> bytes:
    return ExecutionReport.encode_bytes(
        orderId=order_id,
        clOrdId=100 + i,
        origClOrdId=0,
        strategyId=strategy,
        clientId=3,
        correlationId=i,
        instrumentId=1,
        venueId=1,
        venueOrderId=f"V{i}",
        execId=5000 + i,
        execType=1,
        ordStatus=1,
        side=1,
        ordType=1,
        timeInForce=1,
        flags=0,
        price=5_000_000 + i,
        qty=10,
        lastPx=-(2**63),
        lastQty=0,
        cumQty=0,
        leavesQty=10,
        avgPx=(0, -2),
        fee=(0, -2),
        reason=0,
        transactTs=ts,
        ts=ts,
        seq=i,
        text=text,
    )


@dataclass
class Desk:
    """One desk instance: its driver, the daemons started for it, a bus client for the test."""

    instance: str
    tmp: Path
    driver: DriverProcess
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: dict[int, Path] = field(default_factory=dict)
    heartbeats: list[Heartbeat] = field(default_factory=list)
    _bus: BusClient | None = None
    _beats: Any = None

    @property
    def bus(self) -> BusClient:
        if self._bus is None:
            self._bus = BusClient(self.instance, role_name="test").connect()
        return self._bus

    def start_recorder(
        self, profile: str = "recorder.toml", *, preexec: Callable[[], None] | None = None
    ) -> subprocess.Popen[bytes]:
        log = self.tmp / f"recorder-{self.instance}-{len(self.procs)}.log"
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "core.daemons",
                    "run",
                    "recorder",
                    "--instance",
                    self.instance,
                    "--profile",
                    str(PROFILES / profile),
                ],
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                preexec_fn=preexec,  # resource limits for the disk-full test
            )
        self.procs.append(proc)
        self.logs[proc.pid] = log
        return proc

    def log_text(self, proc: subprocess.Popen[bytes]) -> str:
        return self.logs[proc.pid].read_text(errors="replace")

    def stop(self, proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> int:
        """SIGTERM and wait: the clean stop of `aerodesk down`."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(
                f"process {proc.pid} ignored SIGTERM for {timeout_s} s:\n{self.log_text(proc)}"
            ) from None

    def wait_heartbeat(
        self,
        role: str,
        pid: int,
        state: DaemonState = DaemonState.Running,
        timeout_s: float = SAFETY_TIMEOUT_S,
        where: Callable[[Heartbeat], bool] = lambda _h: True,
    ) -> Heartbeat:
        """The first heartbeat of `role` from `pid` in `state` that satisfies `where` (seen since the
        desk's first wait)."""

        def find() -> Heartbeat | None:
            return next(
                (
                    h
                    for h in self.heartbeats
                    if h.role == role and h.pid == pid and h.state == state and where(h)
                ),
                None,
            )

        if self._beats is None:
            # one subscription for the desk's life: closing subscriptions while images come and go is
            # avoided (the Aeron client calls back into them from its conductor thread)
            dispatcher = aerodesk_dispatcher()
            dispatcher.on(
                Heartbeat.TEMPLATE_ID, lambda frame, _h: self.heartbeats.append(Heartbeat.decode(frame))
            )
            dispatcher.default_handler = lambda _m, _h: None
            self._beats = self.bus.subscriber("heartbeats", dispatcher, tether=False)
        if not self.poll_until(lambda: find() is not None, [self._beats], timeout_s):
            proc = next((p for p in self.procs if p.pid == pid), None)
            log = self.log_text(proc) if proc is not None else ""
            raise AssertionError(f"no {state.name} heartbeat from {role} pid {pid}:\n{log}")
        beat = find()
        assert beat is not None
        return beat

    def poll_until(
        self, done: Callable[[], bool], subs: list[Any], timeout_s: float = SAFETY_TIMEOUT_S
    ) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            work = self.bus.do_work() + sum(s.poll() for s in subs)
            if done():
                return True
            if work == 0:
                time.sleep(0.001)
        return done()

    def publisher(self, stream: str) -> Publisher:
        return self.bus.publisher(stream)

    def wait_connected(self, pubs: list[Publisher]) -> None:
        assert self.poll_until(lambda: all(p.is_connected for p in pubs), []), "publishers never connected"

    def offer(self, pub: Publisher, payload: bytes, subs: list[Any] = ()) -> None:  # type: ignore[assignment]
        """Offer until accepted (a tethered recorder may push back); polls `subs` meanwhile."""
        deadline = time.monotonic() + SAFETY_TIMEOUT_S
        while not pub.offer(payload):
            for s in subs:
                s.poll()
            assert time.monotonic() < deadline, f"offer on {pub.stream.name} never accepted"

    def journals(self, data_dir: Path) -> list[Path]:
        return [p for p in find_journals(data_dir, self.instance) if p.name != "wal"]

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)  # a test may have frozen it
                proc.kill()
            proc.wait()
        if self._bus is not None:
            self._bus.close()
            self._bus = None
        self.driver.stop()
        shutil.rmtree(instance_dir(self.instance), ignore_errors=True)


class DeskFactory:
    """Starts desk instances (a driver each) under `tmp` with the channels file `channels`; close()
    stops all of them. For any fixture scope."""

    def __init__(self, tmp: Path, channels: Path) -> None:
        self.tmp = tmp
        self.channels = channels
        self.started: list[Desk] = []

    def __call__(self) -> Desk:
        instance = f"test-{uuid.uuid4().hex[:8]}"
        driver = spawn_driver(
            instance, config_path=self.channels, log_path=self.tmp / f"driver-{instance}.log"
        )
        desk = Desk(instance, self.tmp, driver)
        self.started.append(desk)
        return desk

    def close(self) -> None:
        for desk in self.started:
            desk.close()


@contextmanager
def desk_environment(tmp: Path) -> Iterator[tuple[DeskFactory, Path]]:
    """(factory, data dir) with the test channels and a data dir in the environment of this process
    and of the daemons it starts, for as long as the context lasts; every desk stopped at the end."""
    channels = tmp / "channels.toml"
    channels.write_text(TEST_CHANNELS)
    data = tmp / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CONFIG_ENV, str(channels))
        mp.setenv(DATA_ENV, str(data))
        factory = DeskFactory(tmp, channels)
        try:
            yield factory, data
        finally:
            factory.close()


@pytest.fixture
def channels_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "channels.toml"
    path.write_text(TEST_CHANNELS)
    monkeypatch.setenv(CONFIG_ENV, str(path))  # seen by this process and inherited by the daemons
    return path


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv(DATA_ENV, str(path))
    return path


@pytest.fixture
def desks(tmp_path: Path, channels_path: Path, data_dir: Path) -> Iterator[DeskFactory]:
    """desks() starts a new desk instance (its driver); all are stopped at teardown."""
    factory = DeskFactory(tmp_path, channels_path)
    try:
        yield factory
    finally:
        factory.close()
