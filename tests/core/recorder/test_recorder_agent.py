"""RecorderAgent in this process, on its own agent thread, against a real media driver: reassembly of
fragmented messages, bad input, sessions that started before the recorder, counters and health."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agent import AgentRunner, CompositeAgent, SystemClock, backoff
from core.bus import BusClient
from core.codec.messages import BookSnapshot, DaemonState, Heartbeat
from core.journal import JournalReader
from core.recorder.agent import RecorderAgent
from core.recorder.config import RecorderConfig
from core.recorder.markers import MARKER_STREAM_ID, GapReason, decode_marker
from tests.core.recorder.desk import SAFETY_TIMEOUT_S, Desk, book_delta, trade


class Running:
    """A recorder agent and its own bus client on an agent thread, as the daemon host runs them."""

    def __init__(self, desk: Desk, data_dir: Path, config: RecorderConfig) -> None:
        self.bus = BusClient(desk.instance, role_name="recorder")
        self.health: list[bool] = []
        self.agent = RecorderAgent(
            self.bus, config, desk.instance, SystemClock(), on_health=self.health.append
        )
        self.runner = AgentRunner(CompositeAgent([self.bus, self.agent]), backoff())
        self.runner.start()

    def wait(self, done, timeout_s: float = SAFETY_TIMEOUT_S) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.005)
        return done()

    def stop(self) -> None:
        assert self.runner.close(30.0), "the recorder agent did not close"


@pytest.fixture
def running(desks, data_dir) -> Iterator:
    started: list[Running] = []

    def start(desk: Desk, **config) -> Running:
        r = Running(desk, data_dir, RecorderConfig(data_dir=data_dir, flush_interval_ms=20, **config))
        started.append(r)
        assert r.wait(lambda: r.agent.subscribers[0].is_connected or r.bus.is_connected)
        return r

    try:
        yield start
    finally:
        for r in started:
            r.runner.close(30.0)


def _journal(recorder: Running) -> JournalReader:
    assert recorder.agent.path is not None
    return JournalReader(recorder.agent.path)


def test_messages_longer_than_the_mtu_are_reassembled_and_recorded_whole(desks, running):
    desk = desks()
    recorder = running(desk, streams=("market_data", "heartbeats"))
    md, hb = desk.publisher("market_data"), desk.publisher("heartbeats")
    desk.wait_connected([md, hb])
    snapshot = BookSnapshot.encode_bytes(
        instrumentId=1,
        seq=1,
        venueSeq=7,
        exchangeTs=1,
        receiveTs=2,
        publishTs=3,
        bids=[(5_000_000 - i, 10 + i, 1) for i in range(300)],
        asks=[(5_000_001 + i, 20 + i, 2) for i in range(300)],
    )
    beat = Heartbeat.encode_bytes(
        ts=1,
        role="md",
        pid=42,
        state=DaemonState.Running,
        seq=9,
        startedTs=1,
        strategyId=0,
        counters=[(f"counter.{i}", i) for i in range(64)],
        instance="x" * 300,
    )
    assert len(snapshot) > 10_000 and len(beat) > 2_000  # many MTU-sized fragments each
    sent = [trade(0), snapshot, trade(1), snapshot, trade(2)]
    for payload in sent:
        desk.offer(md, payload)
    desk.offer(hb, beat)
    assert recorder.wait(lambda: recorder.agent.totals.recorded >= len(sent) + 1)
    recorder.stop()
    reader = _journal(recorder)
    assert [r.payload for r in reader.records(stream_ids=[20])] == sent
    assert [r.payload for r in reader.records(stream_ids=[70]) if r.session_id == hb.session_id] == [beat]
    assert recorder.agent.totals.gaps == 0


def test_bad_input_is_counted_and_skipped_and_recording_goes_on(desks, running):
    desk = desks()
    recorder = running(desk, streams=("market_data",))
    md = desk.publisher("market_data")
    desk.wait_connected([md])
    desk.offer(md, trade(0))
    desk.offer(md, b"\x01\x02\x03\x04\x05")  # shorter than an SBE message header
    desk.offer(md, trade(1))
    assert recorder.wait(lambda: recorder.agent.totals.recorded == 2)
    recorder.stop()
    assert recorder.agent.counters()["bad_messages"] == 1
    assert [r.payload for r in _journal(recorder).records()] == [trade(0), trade(1)]
    assert recorder.health == [False]  # healthy from the first duty cycle on, never degraded


def test_a_session_that_published_before_the_recorder_joined_is_marked_late(desks, running):
    desk = desks()
    seen: list[bytes] = []
    early = desk.bus.subscriber("control", lambda b, _h: seen.append(b.tobytes()))  # listened already
    pub = desk.publisher("control")  # 64 KiB terms in the test channels: a 32 KiB publication window
    desk.wait_connected([pub])
    frame = (32 + len(trade(0)) + 31) // 32 * 32
    # More than a window, less than a term: the publisher gets past the window only once the driver has
    # seen the early reader consume, and that is where it joins a new subscriber. With fewer, whether the
    # driver had looked yet was down to scheduling. No term ends in what is skipped, so no padding either.
    before = [trade(i) for i in range(3 * 65536 // 4 // frame)]
    for payload in before:
        desk.offer(pub, payload, [early])
    assert desk.poll_until(lambda: len(seen) == len(before), [early])  # consumed: the stream moved on
    recorder = running(desk, streams=("control",))
    assert recorder.wait(lambda: recorder.agent.subscribers[0].image_count > 0)
    after = [trade(i) for i in range(len(before), len(before) + 5)]
    for payload in after:
        desk.offer(pub, payload, [early])
    desk.poll_until(lambda: len(seen) == len(before) + len(after), [early])
    # the driver joins a new subscriber where the oldest current reader is: past what it consumed
    assert recorder.wait(lambda: recorder.agent.totals.recorded >= len(after)), recorder.agent.counters()
    recorder.stop()
    records = list(_journal(recorder).records())
    markers = [decode_marker(r.payload, r.session_id) for r in records if r.stream_id == MARKER_STREAM_ID]
    trades = [r.payload for r in records if r.stream_id != MARKER_STREAM_ID]
    sent = before + after
    skipped = len(sent) - len(trades)
    assert trades == sent[skipped:], (skipped, recorder.agent.counters())  # a whole suffix, in order
    assert skipped > 0, "the recorder joined at the start: the driver had not moved its join position"
    [marker] = markers
    assert records[0].stream_id == MARKER_STREAM_ID  # marked before the first message it recorded
    assert marker is not None and marker.reason is GapReason.LATE_JOIN and marker.session_id == pub.session_id
    assert marker.expected_position == 0 and marker.bytes_lost == skipped * frame


def test_crossing_term_boundaries_is_no_gap(desks, running):
    desk = desks()
    recorder = running(desk, streams=("control",))  # 64 KiB terms in the test channels
    control = desk.publisher("control")
    desk.wait_connected([control])
    sent = [
        trade(i) if i % 3 else book_delta(i, levels=1 + i % 40) for i in range(3000)
    ]  # sizes vary: terms end with paddings of many sizes
    for payload in sent:
        desk.offer(control, payload)
    assert recorder.wait(lambda: recorder.agent.totals.recorded == len(sent))
    recorder.stop()
    assert recorder.agent.totals.gaps == 0
    assert [r.payload for r in _journal(recorder).records()] == sent
