"""Replay into a second running desk: desk A's recorder records market data published with a known
rhythm; replay_into republishes it into desk B, whose own recorder records what arrives."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from core.bus import DeskNotRunning
from core.journal import JournalReader
from core.replay.into import replay_into
from tests.core.recorder.desk import Desk, desk_environment, execution_report, trade

BURST = 10
SPACING_S = 0.02
PAUSE_S = 0.6
# Receive times are stamped by recorder processes when they poll: on a loaded machine one may be this
# late (never early), which shortens or lengthens any measured gap by as much. Bounds allow it, and the
# rhythm (a 0.6 s pause against 20 ms spacing) stays far wider than it.
LATE_S = 0.1


def _record_session(desk: Desk, data_dir: Path) -> tuple[Path, list[bytes]]:
    """Two bursts of trades with a pause between them (and some state messages), recorded on `desk`."""
    recorder = desk.start_recorder()
    desk.wait_heartbeat("recorder", recorder.pid)
    md, state = desk.publisher("market_data"), desk.publisher("state")
    desk.wait_connected([md, state])
    sent = []
    for burst in range(2):
        for i in range(BURST):
            payload = trade(burst * BURST + i)
            desk.offer(md, payload)
            desk.offer(state, execution_report(i))
            sent.append(payload)
            time.sleep(SPACING_S)
        if burst == 0:
            time.sleep(PAUSE_S)
    assert desk.stop(recorder) == 0
    [journal] = desk.journals(data_dir)
    return journal, sent


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, list[bytes]]:
    """One recorded session (desk A, since stopped) shared by the tests of this module."""
    with desk_environment(tmp_path_factory.mktemp("recorded")) as (desks, data):
        return _record_session(desks(), data)


def _by_session(desk: Desk, data_dir: Path) -> list[tuple[list[bytes], np.ndarray]]:
    """Market data recorded on `desk`, per publisher session (one per replay), in order."""
    [journal] = desk.journals(data_dir)
    sessions: dict[int, list] = {}
    for r in JournalReader(journal).records(stream_ids=[20]):
        sessions.setdefault(r.session_id, []).append(r)
    return [
        ([r.payload for r in rs], np.array([r.receive_time_ns for r in rs], dtype=np.int64))
        for rs in sorted(sessions.values(), key=lambda rs: rs[0].sequence)
    ]


def _recorded_times(journal: Path) -> np.ndarray:
    return np.array(
        [r.receive_time_ns for r in JournalReader(journal).records(stream_ids=[20])], dtype=np.int64
    )


def test_replay_preserves_order_and_relative_timing_at_a_speed_and_ignores_it_at_max(
    desks, data_dir, recorded
):
    journal, sent = recorded
    recorded = _recorded_times(journal)
    recorded_gaps = np.diff(recorded)
    pause_at = int(np.argmax(recorded_gaps))
    assert pause_at == BURST - 1 and recorded_gaps[pause_at] >= (PAUSE_S - LATE_S) * 1e9

    target = desks()
    recorder = target.start_recorder()
    target.wait_heartbeat("recorder", recorder.pid)
    speed = 2.0
    progress = []
    result = replay_into(journal, target.instance, speed=speed, on_progress=progress.append)
    assert result.complete and result.sent == len(sent) and result.dropped == {}
    assert progress and progress[-1].done and progress[-1].sent == len(sent)
    fast = replay_into(journal, target.instance, speed=None)
    assert fast.complete and fast.sent == len(sent)
    assert target.stop(recorder) == 0
    [(payloads, arrived), (payloads_max, arrived_max)] = _by_session(target, data_dir)

    assert payloads == sent  # byte for byte, in order, market data only
    gaps = np.diff(arrived)
    assert int(np.argmax(gaps)) == pause_at  # the rhythm is kept: the pause is where it was
    span, recorded_span = arrived[-1] - arrived[0], recorded[-1] - recorded[0]
    assert span >= recorded_span / speed - LATE_S * 1e9  # never faster than asked (scheduling only delays)
    assert span < recorded_span  # and clearly faster than the original (a generous bound)
    assert gaps[pause_at] >= recorded_gaps[pause_at] / speed - LATE_S * 1e9

    assert payloads_max == sent
    assert np.diff(arrived_max).max() < recorded_gaps[pause_at] / 2  # --max: the pause is not replayed


def test_chosen_streams_and_undelivered_messages_are_reported(desks, recorded):
    journal, sent = recorded
    target = desks()
    got = []
    sub = target.bus.subscriber("state", lambda b, _h: got.append(b.tobytes()))
    result = replay_into(
        journal, target.instance, speed=None, streams=["state", "market_data"], connect_timeout_s=2
    )
    assert result.unconnected == ["market_data"]  # nobody subscribes to market data on desk B
    assert result.dropped == {("market_data", "not_connected"): len(sent)}
    assert result.sent == 2 * BURST and not result.complete
    assert target.poll_until(lambda: len(got) == 2 * BURST, [sub])
    assert got == [execution_report(i) for i in range(BURST)] * 2


def test_a_desk_that_is_not_running_is_refused_at_once(recorded):
    journal, _ = recorded
    with pytest.raises(DeskNotRunning):
        replay_into(journal, "test-norunning", speed=None)
