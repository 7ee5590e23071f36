"""The recorder daemon as the desk runs it: a real media driver, the daemon process, real SBE messages
published by this test on several streams, and the journal it leaves behind."""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

from core.codec.messages import DaemonState, Heartbeat
from core.journal import JournalReader, journal_info, parse_recording_start
from core.recorder.markers import MARKER_STREAM_ID, GapReason, decode_marker
from tests.core.recorder.desk import book_delta, execution_report, new_order, trade

STREAMS = ("market_data", "order_requests", "venue_orders", "venue_reports", "state", "control")


def _payloads(stream: str, n: int) -> list[bytes]:
    if stream == "market_data":
        return [trade(i) if i % 3 else book_delta(i) for i in range(n)]
    if stream in ("order_requests", "venue_orders", "control"):
        return [new_order(i, order_id=i if stream == "venue_orders" else 0) for i in range(n)]
    return [execution_report(i, text="x" * (i % 5)) for i in range(n)]


def test_records_every_message_of_every_stream_in_order_and_drains_on_sigterm(desks, data_dir):
    desk = desks()
    recorder = desk.start_recorder()
    desk.wait_heartbeat("recorder", recorder.pid)
    pubs = {name: desk.publisher(name) for name in STREAMS}
    desk.wait_connected(list(pubs.values()))
    sent = {name: _payloads(name, 400 if name == "market_data" else 120) for name in STREAMS}
    for i in range(400):  # interleaved across streams, as a desk would
        for name, pub in pubs.items():
            if i < len(sent[name]):
                desk.offer(pub, sent[name][i])
    # no pause: whatever the recorder has not polled yet is still in the images and must be drained
    assert desk.stop(recorder) == 0

    [journal] = desk.journals(data_dir)
    assert journal.parent.name == desk.instance
    assert abs(parse_recording_start(journal.name) - time.time_ns()) < 600 * 10**9
    reader = JournalReader(journal)
    records = list(reader.records())
    assert reader.damage == []
    by_session: dict[tuple[int, int], list] = {}
    for r in records:
        by_session.setdefault((r.stream_id, r.session_id), []).append(r)
    for name, pub in pubs.items():
        got = by_session[(pub.stream.stream_id, pub.session_id)]
        assert [r.payload for r in got] == sent[name], f"stream {name}: messages lost or reordered"
        positions = [r.position for r in got]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)
        times = [r.receive_time_ns for r in got]
        assert times == sorted(times)
    assert [r.stream_id for r in records if r.stream_id == MARKER_STREAM_ID] == []
    info = journal_info(journal)
    assert info.instance == desk.instance and not info.damaged
    # the recorder's own heartbeats are on the heartbeats stream too: whole (some are fragmented)
    beats = [Heartbeat.decode(r.payload) for r in records if r.stream_id == 70]
    assert beats and all(b.role == "recorder" for b in beats)
    assert beats[-1].state in (DaemonState.Running, DaemonState.Stopping)


def _counter(beat: Heartbeat, name: str) -> int:
    return {c.name: c.value for c in beat.counters}.get(name, -1)


def test_a_crashed_recorder_keeps_everything_flushed_before_the_crash(desks, data_dir):
    desk = desks()
    recorder = desk.start_recorder()  # flush_interval_ms = 50 in the test profile
    desk.wait_heartbeat("recorder", recorder.pid)
    pub = desk.publisher("market_data")
    desk.wait_connected([pub])
    sent = [trade(i) for i in range(300)]
    for payload in sent:
        desk.offer(pub, payload)
    # a heartbeat counting them all, then one two flush intervals later: heartbeats and flushes come
    # from the same duty cycle, so by then the buffer has been written to the OS
    counted = desk.wait_heartbeat(
        "recorder", recorder.pid, where=lambda h: _counter(h, "market_data.received") >= len(sent)
    )
    desk.wait_heartbeat("recorder", recorder.pid, where=lambda h: h.ts >= counted.ts + 2 * 50_000_000)
    os.kill(recorder.pid, signal.SIGKILL)
    recorder.wait()

    [journal] = desk.journals(data_dir)
    reader = JournalReader(journal)
    got = [r.payload for r in reader.records(stream_ids=[pub.stream.stream_id])]
    assert [d for d in reader.damage if d.loses_data] == []  # the segment is unsealed, not damaged
    assert got == sent


def test_untethered_recorder_never_slows_the_desk_and_marks_the_gap(desks, data_dir):
    desk = desks()
    recorder = desk.start_recorder("recorder-untethered.toml")
    desk.wait_heartbeat("recorder", recorder.pid)
    fast = desk.bus.subscriber("market_data", lambda _b, _h: None)  # a tethered consumer keeping up
    pub = desk.publisher("market_data")
    desk.wait_connected([pub])
    sent: list[bytes] = []

    def send(n: int) -> None:
        for _ in range(n):
            payload = trade(len(sent))
            desk.offer(pub, payload, [fast])
            sent.append(payload)
            fast.poll()

    send(200)
    # it has read these before it freezes: it joined at the start, and the gap comes after them
    desk.wait_heartbeat("recorder", recorder.pid, where=lambda h: _counter(h, "market_data.received") >= 200)
    os.kill(recorder.pid, signal.SIGSTOP)  # the recorder freezes; the desk must go on without it
    try:
        # more than the publication window (term_length / 2) goes out while it is frozen, for longer
        # than the driver's untethered window limit and resting timeouts (300 ms each here)
        frozen_until = time.monotonic() + 1.5
        while time.monotonic() < frozen_until:
            send(500)
            time.sleep(0.01)
    finally:
        os.kill(recorder.pid, signal.SIGCONT)

    # it rejoins at the live end: keep the desk going until the recorder says it marked the gap
    def marked(beat: Heartbeat) -> bool:
        send(20)
        return _counter(beat, "recorder.gaps") >= 1

    beat = desk.wait_heartbeat("recorder", recorder.pid, where=marked)
    # End on a tail the recorder provably holds: a last batch it received with no new gap. Under load
    # it can fall behind again and rest; a resting image would miss the tail at stop, so while it shows
    # neither, the desk keeps going (a rejoin only shows as a gap once a message comes).
    for _ in range(20):
        received, gaps = _counter(beat, "market_data.received"), _counter(beat, "recorder.gaps")
        assert received >= 0 and gaps >= 1, "the recorder's heartbeat carries both counters"
        send(200)
        newest = [beat.seq]

        def settled(b: Heartbeat, got: int = received, gaps: int = gaps, newest: list[int] = newest) -> bool:
            if _counter(b, "recorder.gaps") > gaps or _counter(b, "market_data.received") >= got + 200:
                return True
            if b.seq > newest[0]:  # a newer beat without either: nudge it (once per beat)
                newest[0] = b.seq
                send(20)
            return False

        beat = desk.wait_heartbeat("recorder", recorder.pid, where=settled)
        if _counter(beat, "recorder.gaps") == gaps:
            break
    assert desk.stop(recorder) == 0

    [journal] = desk.journals(data_dir)
    reader = JournalReader(journal)
    frame = (32 + len(sent[0]) + 31) // 32 * 32  # every trade occupies the same frame size
    index = {payload: i for i, payload in enumerate(sent)}
    recorded: list[int] = []  # indexes into `sent` of the trades recorded, in journal order
    lost_between: dict[int, int] = {}  # bytes marked lost before the trade recorded at that place
    for r in reader.records(stream_ids=[pub.stream.stream_id, MARKER_STREAM_ID]):
        if r.stream_id == MARKER_STREAM_ID:
            marker = decode_marker(r.payload, r.session_id)
            assert marker is not None and marker.reason is GapReason.POSITION_JUMP
            assert marker.stream == "market_data" and marker.session_id == pub.session_id
            lost_between[len(recorded)] = lost_between.get(len(recorded), 0) + marker.bytes_lost
        else:
            recorded.append(index[r.payload])
    assert recorded[0] == 0 and recorded[-1] == len(sent) - 1
    assert recorded == sorted(set(recorded))  # in order, none twice
    assert lost_between  # the freeze lost data, and it is marked
    for at, (before, after) in enumerate(itertools.pairwise(recorded), start=1):
        # a marker exactly where trades are missing, accounting for every byte of them
        assert lost_between.get(at, 0) == (after - before - 1) * frame, (at, before, after)
    assert set(lost_between) <= set(range(1, len(recorded)))
    assert "marked in the journal" in desk.log_text(recorder)


def test_a_journal_that_cannot_be_opened_degrades_the_recorder_which_retries_and_marks_the_loss(
    desks, data_dir: Path, monkeypatch
):
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    data_dir.write_text("a file where the data directory should be")  # ENOTDIR on every open
    desk = desks()
    recorder = desk.start_recorder()
    desk.wait_heartbeat("recorder", recorder.pid, DaemonState.Degraded)
    pub = desk.publisher("market_data")
    desk.wait_connected([pub])
    lost = [trade(i) for i in range(25)]
    for payload in lost:
        desk.offer(pub, payload)
    desk.wait_heartbeat(  # all polled (and counted as unjournaled) before the journal can open
        "recorder",
        recorder.pid,
        DaemonState.Degraded,
        where=lambda h: _counter(h, "market_data.received") >= 25,
    )
    assert recorder.poll() is None  # still running
    data_dir.unlink()
    data_dir.mkdir()
    desk.wait_heartbeat("recorder", recorder.pid, DaemonState.Running)
    kept = [trade(i) for i in range(25, 40)]
    for payload in kept:
        desk.offer(pub, payload)
    assert desk.stop(recorder) == 0

    log = desk.log_text(recorder)
    assert "cannot open the journal" in log and "Not a directory" in log
    [journal] = desk.journals(data_dir)
    reader = JournalReader(journal)
    records = list(reader.records(stream_ids=[pub.stream.stream_id, MARKER_STREAM_ID]))
    assert [r.payload for r in records if r.stream_id == pub.stream.stream_id] == kept
    markers = [decode_marker(r.payload) for r in records if r.stream_id == MARKER_STREAM_ID]
    md = [m for m in markers if m is not None and m.stream == "market_data"]
    assert len(md) == 1 and md[0].reason is GapReason.UNJOURNALED and md[0].messages == len(lost)


FILE_SIZE_LIMIT = 256 * 1024


def _limit_file_size() -> None:
    """In the recorder's process: no file may grow past the limit, as on a full disk (EFBIG), and
    the signal a process gets for trying is ignored, so the write fails instead."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_a_full_disk_degrades_the_recorder_without_stopping_it_or_the_desk(desks, data_dir):
    desk = desks()
    recorder = desk.start_recorder(preexec=_limit_file_size)
    desk.wait_heartbeat("recorder", recorder.pid)
    pub = desk.publisher("market_data")
    desk.wait_connected([pub])
    sent = [trade(i) for i in range(4000)]  # ~450 KB of journal: past the limit
    for payload in sent[:1000]:  # ~110 KB: fits
        desk.offer(pub, payload)
    # counted, then written: a heartbeat two flush intervals later comes from the same duty cycle
    counted = desk.wait_heartbeat(
        "recorder", recorder.pid, where=lambda h: _counter(h, "market_data.received") >= 1000
    )
    desk.wait_heartbeat("recorder", recorder.pid, where=lambda h: h.ts >= counted.ts + 2 * 50_000_000)
    for payload in sent[1000:]:
        desk.offer(pub, payload)  # the desk is never held back
    beat = desk.wait_heartbeat("recorder", recorder.pid, DaemonState.Degraded)
    counters = {c.name: c.value for c in beat.counters}
    assert counters["recorder.write_errors"] >= 1 and counters["recorder.degraded"] == 1
    assert recorder.poll() is None
    assert desk.stop(recorder) == 0

    log = desk.log_text(recorder)
    assert "recorder journal write failed" in log and "File too large" in log
    assert "records are lost" in log  # what could not be written by the end is said, not hidden
    [journal] = desk.journals(data_dir)
    reader = JournalReader(journal)
    got = [r.payload for r in reader.records(stream_ids=[pub.stream.stream_id])]
    assert [d for d in reader.damage if d.loses_data] == []  # failed writes were cut off cleanly
    assert 1000 <= len(got) < len(sent) and got == sent[: len(got)]
    assert sum(p.stat().st_size for p in journal.glob("*.seg")) <= FILE_SIZE_LIMIT
