"""The md daemon replaying real recordings (Binance capture, LOBSTER) onto a real bus: every event the
venue adapter produces arrives as its SBE message, in order, with a gap-free per-instrument seq."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.binance.replay import replay_file
from adapters.lobster import LobsterDataClient, LobsterDataConfig
from core.bus import BusClient, instance_dir, spawn_driver
from core.marketdata.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    MarketEvent,
    TradeEvent,
)
from core.supervisor.monitor import HeartbeatMonitor
from tests.core.daemons.busio import Collector, pump
from tests.desk import REPO_ROOT

BINANCE_SPOT = "binance-ws-capture-hftbacktest/spot/btcusdt_20240808.gz"
LOBSTER_GOOG = "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
DAEMON = [sys.executable, "-m", "core.daemons", "run"]


class MdProcess:
    """A media driver and one md daemon process on a fresh instance; the test subscribes first."""

    def __init__(self, tmp_path: Path, config: str) -> None:
        self.instance = f"test-{uuid.uuid4().hex[:8]}"
        self.profile = tmp_path / "replay.toml"
        self.profile.write_text(
            "[desk]\nheartbeat_interval_ms = 100\nheartbeat_timeout_ms = 3000\n"
            f'[[daemon]]\nname = "md"\nkind = "md"\n[daemon.config]\n{config}\n'
        )
        self.log = tmp_path / "md.log"
        self.driver = spawn_driver(self.instance, log_path=tmp_path / "driver.log")
        self.proc: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*DAEMON, "md", "--instance", self.instance, "--profile", str(self.profile)],
                cwd=REPO_ROOT,
                stderr=log,
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.driver.stop()
        assert not instance_dir(self.instance).exists()


@pytest.fixture
def md_replay(tmp_path: Path) -> Iterator[Any]:
    started: list[MdProcess] = []

    def make(config: str) -> MdProcess:
        md = MdProcess(tmp_path, config)
        started.append(md)
        return md

    yield make
    for md in started:
        md.stop()


def _ended(stream: Collector) -> bool:
    return any(m.NAME == "FeedState" and int(m.status) == FeedStatus.ENDED for m in stream.messages)


def _check_seq(messages: list[Any]) -> None:
    last: dict[int, int] = {}
    for m in messages:
        if m.NAME in ("BookSnapshot", "BookDelta", "Trade"):
            if m.instrumentId in last:
                assert m.seq == last[m.instrumentId] + 1
            else:
                assert m.seq == 1  # the replay's first message of the instrument
            last[m.instrumentId] = m.seq
            assert m.publishTs >= m.receiveTs > 0


def _same(m: Any, e: MarketEvent) -> bool:
    """The SBE message carries exactly the adapter's event."""
    if isinstance(e, BookSnapshotEvent):
        return (
            m.NAME == "BookSnapshot"
            and (m.instrumentId, m.venueSeq, m.exchangeTs) == (e.instrument_id, e.venue_seq, e.exchange_ts_ns)
            and [(x.price, x.qty) for x in m.bids] == list(e.bids)
            and [(x.price, x.qty) for x in m.asks] == list(e.asks)
        )
    if isinstance(e, BookDeltaEvent):
        return (
            m.NAME == "BookDelta"
            and (m.instrumentId, m.venueSeq, m.exchangeTs) == (e.instrument_id, e.venue_seq, e.exchange_ts_ns)
            and [(int(x.side), x.price, x.qty) for x in m.levels] == [(int(s), p, q) for s, p, q in e.levels]
        )
    if isinstance(e, TradeEvent):
        return m.NAME == "Trade" and (
            m.instrumentId,
            m.tradeId,
            m.exchangeTs,
            m.price,
            m.qty,
            int(m.aggressorSide),
        ) == (e.instrument_id, e.trade_id, e.exchange_ts_ns, e.price, e.qty, int(e.aggressor))
    if isinstance(e, FeedStateEvent):
        return m.NAME == "FeedState" and (m.instrumentId, int(m.status), m.text) == (
            e.instrument_id,
            int(e.status),
            e.text,
        )
    return False


def _binance_run(md_replay: Any, path: Path, until: Any, what: str) -> list[Any]:
    md = md_replay(
        f'feed = "binance"\npath = "{path}"\nspeed = "max"\nsnapshot_interval_ms = 0\nsnapshot_depth = 5000'
    )
    bus = BusClient(md.instance).connect()
    try:
        stream = Collector(bus, "market_data")  # tethered, subscribed before md starts: nothing is lost
        md.launch()
        pump(bus, [stream], lambda: until(stream), what, timeout=300)
    finally:
        bus.close()
    return stream.messages


def _binance_expected(path: Path, stop_after_ns: int | None = None) -> list[MarketEvent]:
    """The adapter's own replay of the file (bookTicker has no bus message)."""
    events = replay_file(path, keep_events=True, stop_after_ns=stop_after_ns).events or []
    return [e for e in events if type(e).__name__ != "TopOfBookEvent"]


def _assert_same(got: list[Any], expected: list[MarketEvent]) -> None:
    assert len(got) == len(expected)
    mismatched = [(i, m, e) for i, (m, e) in enumerate(zip(got, expected, strict=True)) if not _same(m, e)]
    assert not mismatched, mismatched[:3]
    _check_seq(got)


def test_binance_capture_replays_the_adapters_events(shared_data: Path, md_replay: Any) -> None:
    path = shared_data / BINANCE_SPOT
    n = 1500
    got = _binance_run(md_replay, path, lambda s: len(s.messages) >= n, f"{n} Binance messages")[:n]
    # The first 90 s of the capture hold more than n events, sync (REST snapshot) included.
    expected = _binance_expected(path, stop_after_ns=got[0].exchangeTs + 90 * 10**9)[:n]
    _assert_same(got, expected)
    assert {"BookSnapshot", "BookDelta", "Trade", "FeedState"} <= {m.NAME for m in got}


@pytest.mark.slow
def test_binance_capture_replays_every_event_to_the_end(shared_data: Path, md_replay: Any) -> None:
    path = shared_data / BINANCE_SPOT
    got = _binance_run(md_replay, path, _ended, "the end of the Binance capture")
    expected = _binance_expected(path)
    expected.append(FeedStateEvent(101, 0, FeedStatus.ENDED, text=f"end of {path.name}"))
    _assert_same(got, expected)


def test_lobster_replay_waits_for_a_subscriber_then_replays_the_adapters_events(
    shared_data: Path, md_replay: Any
) -> None:
    path = shared_data / LOBSTER_GOOG
    md = md_replay(f'feed = "lobster"\npath = "{path}"\nspeed = "max"\nsnapshot_interval_ms = 0')
    n = 3000
    bus = BusClient(md.instance).connect()
    try:
        monitor = HeartbeatMonitor(bus)
        md.launch()  # before anyone subscribes to market data
        pump(bus, [monitor.subscriber], lambda: monitor.received >= 3, "md heartbeats")
        counters = monitor.latest["md"].counters
        assert counters["md.feed_started"] == 0 and counters["md.published"] == 0
        stream = Collector(bus, "market_data")
        pump(bus, [stream], lambda: len(stream.messages) >= n, f"{n} LOBSTER messages", timeout=300)
    finally:
        bus.close()  # the md daemon is held back by back pressure meanwhile: nothing was dropped
    expected = list(itertools.islice(LobsterDataClient(LobsterDataConfig(str(path))).events(), n))
    _assert_same(stream.messages[:n], expected)  # from the very first event
    assert {m.instrumentId for m in stream.messages} == {201}
