"""`aerodesk tui --journal`: the TUI replays a REAL recorded desk session (recorder, synthetic market,
simulated venue, oms and the BTC market maker, tests/profiles/journal_desk.toml), driven through the
real app with Pilot.

The replay worker reads time only from an injected monotonic clock: the tests move a fake clock and
call `link.sync()`, so every replay time asserted is exact (no wall-clock thresholds). What the screen
should show is worked out from the journal independently (JournalReader and the codec), never from the
replay's own output.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from core.codec.messages import SCHEMA_ID, SCHEMA_VERSION, ExecType, ExecutionReport, decode
from core.config import ConfigError
from core.instruments import InstrumentCatalog, load_instruments
from core.journal import JournalReader, JournalWriter, find_journals
from tests.desk import PROFILES, running_desk
from tests.tui import recorded
from tui import fmt
from tui.app import AerodeskApp
from tui.commands import EngageKill, ReadOnlyRefused
from tui.config import TuiConfig, load_tui_config
from tui.journal_link import READ_ONLY_REASON, JournalLink
from tui.model.staleness import DeskStatus
from tui.model.view import DeskView
from tui.replay_clock import ReplayClock, faster, parse_speed, slower
from tui.replay_engine import ReplayEngine
from tui.replay_fold import ReplayStreams
from tui.replay_screen import ReplayDeskScreen
from tui.replay_source import open_journal
from tui.replay_time import parse_seek
from tui.screens.seek import SeekScreen
from tui.widgets.replay_bar import ReplayBar

S = 1_000_000_000
MD, STATE = 20, 60
SIZE = (120, 40)


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real desk session, recorded until the market maker has been filled, then taken down."""
    data = tmp_path_factory.mktemp("journal-desk")
    with running_desk(PROFILES / "journal_desk.toml", data) as desk:

        def filled() -> bool:
            venue = desk.heartbeats(0.5).get("exec-sim")
            return venue is not None and venue.counters.get("exec-sim.fills", 0) > 0

        desk.wait_for(filled, "a fill of the market maker")
        desk.wait_for(lambda: desk.heartbeats(0.3), "one more round of heartbeats")  # a little after it
        assert desk.down().code == 0
        [path] = [p for p in find_journals(data, desk.instance) if p.name != "wal"]
    return path


@pytest.fixture(scope="module")
def catalog() -> InstrumentCatalog:
    return load_instruments(PROFILES / "instruments.toml")  # the static data the test desk ran with


@dataclass
class Recorded:
    """What the journal holds, read with the journal reader and the codec alone."""

    times: list[int]
    streams: list[int]
    fills: list[tuple[int, int, int]]  # (receive time, order id, exec id) of every fill report

    @classmethod
    def read(cls, path: Path) -> Recorded:
        rows = JournalReader(path).scan()
        fills = []
        for r in JournalReader(path).records(stream_ids=[STATE], template_ids=[ExecutionReport.TEMPLATE_ID]):
            er = decode(r.payload)
            if er.execType == ExecType.Trade and er.lastQty > 0:  # what the blotter lists as a fill
                fills.append((r.receive_time_ns, er.orderId, er.execId))
        return cls(rows["receive_time_ns"].tolist(), rows["stream_id"].tolist(), fills)


def pilot(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async Pilot test in its own event loop (pytest sees the fixtures it asks for)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


class FakeMono:
    """The replay worker's monotonic clock: moves only when a test says so."""

    def __init__(self) -> None:
        self.ns = 1_000 * S

    def __call__(self) -> int:
        return self.ns

    def advance(self, seconds: Fraction | int) -> None:
        self.ns += int(seconds * S)


def replay_app(
    path: Path, catalog: InstrumentCatalog, *, paused: bool = True, speed: Fraction | None = Fraction(1)
) -> tuple[AerodeskApp, JournalLink, FakeMono]:
    clock = FakeMono()
    link = JournalLink(open_journal(path), catalog, TuiConfig(), speed=speed, paused=paused, mono_clock=clock)
    app = AerodeskApp(link, catalog, TuiConfig(), wall_clock=link.replay_now, frozen=True)
    return app, link, clock


async def settle(pilot: Pilot, link: JournalLink) -> None:
    """Let the worker apply what the keys queued, then let the UI render the view it published."""
    await pilot.pause()
    link.sync()
    await pilot.pause()
    await pilot.pause()


def bar_text(app: AerodeskApp) -> str:
    return str(app.screen.query_one(ReplayBar).render())


def content(view: DeskView) -> dict[str, Any]:
    """Everything a view says about the desk (not its counters of views built or recent rates)."""
    return {
        "books": {
            iid: (b.bids, b.asks, b.trades, b.synced, b.seq, b.gaps, b.messages, b.stale_reason)
            for iid, b in view.books.items()
        },
        "orders": view.orders,
        "fills": view.fills,
        "positions": view.positions,
        "desk_positions": view.desk_positions,
        "totals": view.strategy_totals,
        "kill": view.kill,
        "limits": view.limits,
        "events": view.risk_events,
        "daemons": view.daemons,
        "md_received": view.link.md_received,
        "status": (view.link.status, view.link.status_text),
        "clock": (view.built_ns, view.wall_ns),
    }


@pilot
async def test_books_orders_and_fills_appear_as_the_replay_advances(journal: Path, catalog) -> None:
    rec = Recorded.read(journal)
    assert rec.fills, "the recorded session has no fill"
    first = rec.times[0]
    fill_ns = rec.fills[0][0]
    app, link, clock = replay_app(journal, catalog, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, link)
        start = app.last_view
        assert start is not None and start.fills == ()
        assert link.status.paused and link.status.replay_ns == first
        assert "REPLAY" in bar_text(app) and "PAUSED" in bar_text(app)
        assert isinstance(app.screen, ReplayDeskScreen)

        await pilot.press("space")  # play at 1x, to just past the first fill
        await settle(pilot, link)
        clock.advance(Fraction(fill_ns - first, S))
        await settle(pilot, link)
        view = app.last_view
        assert view is not None and link.status.replay_ns == fill_ns and not link.status.paused
        # folded in journal order up to the first record received after the replay time
        due = next((i for i, t in enumerate(rec.times) if t > fill_ns), len(rec.times))
        assert link.status.position == due
        expected_fills = [(oid, eid) for t, oid, eid in rec.fills if t <= fill_ns]
        assert [(f.order_id, f.exec_id) for f in view.fills] == expected_fills[::-1]  # newest first
        book = view.books[1]
        assert book.bids and book.asks and book.bids[0].price < book.asks[0].price
        # Ages are the recording's: a session recorded minutes ago is not shown as stale.
        assert view.built_ns == fill_ns and view.wall_ns == fill_ns
        assert view.link.status in (DeskStatus.LIVE, DeskStatus.DEGRADED, DeskStatus.CONNECTING)
        assert book.stale_reason == ""
        assert fmt.clock(fill_ns) in bar_text(app)
        assert f"rec {link.status.position}/{len(rec.times)}" in bar_text(app)


@pilot
async def test_pause_stops_the_replay_clock_and_play_resumes_it(journal: Path, catalog) -> None:
    app, link, clock = replay_app(journal, catalog, paused=False)
    first = Recorded.read(journal).times[0]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, link)
        clock.advance(1)
        await settle(pilot, link)
        assert link.status.replay_ns == first + S and "PLAYING" in bar_text(app)
        await pilot.press("space")
        await settle(pilot, link)
        position = link.status.position
        clock.advance(5)
        await settle(pilot, link)
        assert link.status.paused and link.status.replay_ns == first + S
        assert link.status.position == position and "PAUSED" in bar_text(app)
        await pilot.press("space")
        await settle(pilot, link)
        clock.advance(Fraction(1, 2))
        await settle(pilot, link)
        assert link.status.replay_ns == first + S + S // 2 and not link.status.paused


@pilot
async def test_step_folds_exactly_one_record_or_up_to_the_next_shown_message(journal: Path, catalog) -> None:
    rec = Recorded.read(journal)
    app, link, _clock = replay_app(journal, catalog, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, link)
        for _ in range(3):
            before = link.status.position
            await pilot.press("full_stop")
            await settle(pilot, link)
            assert link.status.position == before + 1 and link.status.paused
            assert link.status.replay_ns == max(rec.times[: before + 1])
        # `n`: every record up to and including the next market-data or state message
        before = link.status.position
        shown = next(i for i in range(before, len(rec.streams)) if rec.streams[i] in (MD, STATE))
        await pilot.press("n")
        await settle(pilot, link)
        assert link.status.position == shown + 1
        assert link.model.md_received == sum(1 for s in rec.streams[: shown + 1] if s == MD)


@pilot
async def test_seeking_back_and_forth_shows_what_a_straight_replay_shows(journal: Path, catalog) -> None:
    rec = Recorded.read(journal)
    first, last = rec.times[0], max(rec.times)
    offset = Fraction(last - first, S) * Fraction(3, 5)
    target = first + int(offset * S)
    # A straight replay at 1x to the target time.
    straight_app, straight, clock = replay_app(journal, catalog, paused=False)
    async with straight_app.run_test(size=SIZE) as pilot:
        await settle(pilot, straight)
        clock.advance(offset)
        await settle(pilot, straight)
        assert straight.status.replay_ns == target
        expected = content(straight.latest_view())
    # To the end, back to the target (a refold from the start), to the start, and forward to it.
    app, link, _clock = replay_app(journal, catalog, paused=True)
    typed = fmt.clock(target)[:8] + f".{target % S:09d}"  # HH:MM:SS.nnnnnnnnn, UTC
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, link)
        await pilot.press("end")
        await settle(pilot, link)
        assert link.status.ended and link.status.position == len(rec.times)
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, SeekScreen)
        await pilot.press(*typed, "enter")
        await settle(pilot, link)
        assert link.status.refolds == 1 and link.status.replay_ns == target
        assert content(link.latest_view()) == expected
        await pilot.press("home")
        await settle(pilot, link)
        assert link.status.replay_ns == first and link.status.refolds == 2
        link.seek(target)
        await settle(pilot, link)
        assert link.status.refolds == 2  # forwards: folded on, not refolded
        assert content(link.latest_view()) == expected
        # -/+ 10 s from there, clamped to the recording
        await pilot.press("right")
        await settle(pilot, link)
        assert link.status.replay_ns == min(last, target + 10 * S)
        await pilot.press("left")
        await settle(pilot, link)
        assert link.status.replay_ns == max(first, min(last, target + 10 * S) - 10 * S)


@pilot
async def test_a_bad_seek_target_is_answered_in_the_dialog(journal: Path, catalog) -> None:
    app, link, _clock = replay_app(journal, catalog, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, link)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*"soon", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SeekScreen)
        assert "bad seek target 'soon'" in str(app.screen.query_one("#seek-error").render())
        await pilot.press("escape")
        await settle(pilot, link)
        assert not isinstance(app.screen, SeekScreen) and link.status.position == 1


@pilot
async def test_speed_keys_change_the_pace_of_the_replay_clock(journal: Path, catalog) -> None:
    rec = Recorded.read(journal)
    app, link, clock = replay_app(journal, catalog, paused=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, link)
        paces = []
        for keys, label in (
            ((), "1x"),
            (("right_square_bracket",), "2x"),
            (("left_square_bracket",) * 2, "0.5x"),
        ):
            await pilot.press(*keys)
            await settle(pilot, link)
            assert f"REPLAY {label}" in bar_text(app)
            before = link.status.replay_ns
            clock.advance(1)
            await settle(pilot, link)
            paces.append(link.status.replay_ns - before)
        assert paces == [S, 2 * S, S // 2]
        # MAX folds every record as fast as it can, whatever the clock does.
        link.set_speed(None)
        for _ in range(1000):
            if link.sync().ended:
                break
        assert link.status.ended and link.status.position == len(rec.times)
        assert link.status.replay_ns == max(rec.times)
        await settle(pilot, link)
        assert "REPLAY MAX" in bar_text(app) and "END" in bar_text(app)


@pilot
async def test_desk_actions_are_refused_in_a_replay(journal: Path, catalog) -> None:
    app, link, _clock = replay_app(journal, catalog, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, link)
        for key in ("k", "F", "o"):
            await pilot.press(key)
            await pilot.pause()
            assert app.outcomes[-1].text == READ_ONLY_REASON
        assert not any(isinstance(s, SeekScreen) for s in app.screen_stack)
        assert len(app.screen_stack) == 2  # no confirmation or ticket opened
        with pytest.raises(ReadOnlyRefused):
            link.submit(EngageKill("from a replay"))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Replay: pause or resume" in titles and "Engage kill switch" not in titles


@pilot
async def test_a_journal_with_a_torn_tail_replays_up_to_the_damage(journal: Path, catalog, tmp_path) -> None:
    damaged = tmp_path / journal.name
    shutil.copytree(journal, damaged)
    last_segment = sorted(damaged.glob("*.seg"))[-1]
    size = last_segment.stat().st_size
    with open(last_segment, "r+b") as f:
        f.truncate(size - 100)  # the tail of the last record is gone, as after a crash mid-write
    expected = JournalReader(damaged)
    readable = len(expected.scan())
    [lossy] = [d for d in expected.damage if d.loses_data]
    assert 0 < readable < len(Recorded.read(journal).times)

    app, link, _clock = replay_app(damaged, catalog, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, link)
        text = bar_text(app)
        assert "DAMAGED journal" in text and str(lossy.kind) in text and last_segment.name in text
        assert any(str(lossy.kind) in n.text for n in app.last_view.link.notices)
        await pilot.press("end")
        await settle(pilot, link)
        assert link.status.ended and link.status.position == readable == link.status.total


def test_the_engine_folds_each_record_once_in_journal_order(journal: Path, catalog) -> None:
    rec = Recorded.read(journal)
    engine = ReplayEngine(
        open_journal(journal), catalog, speed=None, mono_ns=0, streams=ReplayStreams(20, 60, 70, 30)
    )
    while not engine.ended:
        engine.advance(0)
    assert engine.position == engine.folder.folded == len(rec.times)
    assert engine.model.md_received == sum(1 for s in rec.streams if s == MD)


def test_a_backward_seek_folds_on_from_a_checkpoint_and_shows_what_a_straight_replay_shows(
    journal: Path, catalog
) -> None:
    rec = Recorded.read(journal)
    total, first, last = len(rec.times), rec.times[0], max(rec.times)
    every, kept = max(1, total // 40), 4  # about 40 checkpoints' worth: thinned to at most 4
    streams = ReplayStreams(20, 60, 70, 30)

    def engine(**kw: Any) -> ReplayEngine:
        return ReplayEngine(open_journal(journal), catalog, speed=None, mono_ns=0, streams=streams, **kw)

    def seek(e: ReplayEngine, target: int) -> None:
        e.seek(target, 0)
        while e.seeking:
            e.advance(0)

    checked = engine(checkpoint_every=every, max_checkpoints=kept)
    seek(checked, last)  # to the end: checkpoints are taken on the way
    assert checked.ended and 1 <= len(checked.checkpoints) <= kept
    positions = [c.position for c in checked.checkpoints]
    assert positions == sorted(positions) and checked.checkpoint_every > every  # thinned, spread out
    assert all(p % checked.checkpoint_every == 0 for p in positions)
    restored = []
    # each checkpoint twice (a restore must leave it as it was), between two, and before the first
    targets = [c.last_folded_ns + d for c in checked.checkpoints for d in (0, 1_000_000)]
    targets += [first + (last - first) // 100]
    for target in targets:
        straight = engine(checkpoint_every=10**9)  # never checkpoints: a straight replay from the start
        seek(straight, target)
        seek(checked, last)
        seek(checked, target)
        usable = [c.position for c in checked.checkpoints if c.last_folded_ns <= target]
        assert checked.restored_from == (usable[-1] if usable else 0)
        restored.append(checked.restored_from)
        assert checked.position == straight.position
        assert content(checked.view(0)) == content(straight.view(0))
    assert checked.refolds == len(targets)
    assert min(restored) == 0 < max(restored)  # from the start once, from a checkpoint at least once


@pilot
async def test_replay_keys_are_remappable_in_the_settings(journal: Path, catalog, tmp_path: Path) -> None:
    settings = tmp_path / "tui.toml"
    settings.write_text('[replay_keys]\npause = "p"\nstep = "x"\n')
    config = load_tui_config(settings)
    clock = FakeMono()
    link = JournalLink(open_journal(journal), catalog, config, paused=True, mono_clock=clock)
    app = AerodeskApp(link, catalog, config, wall_clock=link.replay_now, frozen=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, link)
        await pilot.press("x")
        await settle(pilot, link)
        assert link.status.position == 2
        await pilot.press("space")  # no longer bound
        await settle(pilot, link)
        assert link.status.paused
        await pilot.press("p")
        await settle(pilot, link)
        assert not link.status.paused
        helps = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert helps["Replay: pause or resume"] == "key: p"
        # `[` and `]` change the speed in a replay: the palette no longer offers them for instruments
        assert helps["Next instrument"] == "key: palette only"


def test_replay_key_settings_are_checked(tmp_path: Path) -> None:
    settings = tmp_path / "tui.toml"
    settings.write_text('[replay_keys]\npause = "n"\n')  # n steps to the next message
    with pytest.raises(ConfigError, match=r"replay_keys\.pause.*already bound to 'step_message'"):
        load_tui_config(settings)
    settings.write_text('[replay_keys]\nrewind = "r"\n')
    with pytest.raises(ConfigError, match="unknown replay binding"):
        load_tui_config(settings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("start", 0),
        ("end", 1),
        ("+10", 2),
        ("-2.5", 3),
        ("+500ms", 4),
        ("-1m", 5),
    ],
)
def test_seek_targets(text: str, expected: int) -> None:
    first = 1_795_379_750_267_764_403  # 2026-11-22T20:35:50.267764403Z
    last = first + 60 * S
    now = first + 30 * S
    wanted = [first, last, now + 10 * S, now - 5 * S // 2, now + S // 2, now - 60 * S][expected]
    assert parse_seek(text, now_ns=now, first_ns=first, last_ns=last) == wanted


def test_a_time_of_day_is_on_the_sessions_day_even_over_midnight() -> None:
    first = 1_795_379_750_267_764_403  # 2026-11-22T20:35:50.267764403Z
    day = first - first % (86_400 * S)
    assert parse_seek("20:36:00.5", now_ns=first, first_ns=first, last_ns=first + S) == day + (
        (20 * 60 + 36) * 60 * S + S // 2
    )
    late = day + (23 * 3600 + 59 * 60) * S  # a session from 23:59 to 00:01 the next day
    target = parse_seek("00:00:30", now_ns=late, first_ns=late, last_ns=late + 120 * S)
    assert target == day + 86_400 * S + 30 * S
    for bad in ("25:00:00", "soon", "+", "12:3"):
        with pytest.raises(ValueError, match="bad"):
            parse_seek(bad, now_ns=late, first_ns=late, last_ns=late + S)


def test_speeds_and_the_replay_clock() -> None:
    assert parse_speed("max") is None and parse_speed("2x") == 2 and parse_speed("0.25") == Fraction(1, 4)
    for bad in ("0", "0.1", "65", "fast"):
        with pytest.raises(ValueError, match="speed"):
            parse_speed(bad)
    assert faster(Fraction(64)) is None and slower(None) == 64 and slower(Fraction(1, 4)) == Fraction(1, 4)
    assert faster(Fraction(3, 2)) == 2 and slower(Fraction(3, 2)) == 1
    clock = ReplayClock(100 * S, 110 * S, speed=Fraction(4), paused=False, mono_ns=0)
    assert clock.now(S) == 104 * S and clock.mono_until(106 * S, S) == S // 2
    clock.pause(S)
    assert clock.now(9 * S) == 104 * S and clock.mono_until(106 * S, 9 * S) is None
    clock.resume(9 * S)
    assert clock.now(10 * S) == 108 * S and clock.now(20 * S) == 110 * S  # never past the end


def fixed_journal(directory: Path) -> Path:
    """The fixed session of the snapshot tests (tests/tui/recorded.py) written as a recorder journal,
    received at fixed times: a replay of it is the same on every run."""
    path = directory / "demo" / "20260101T000000.000000Z"
    writer = JournalWriter(path, schema_id=SCHEMA_ID, schema_version=SCHEMA_VERSION, instance="demo")
    ids = {"market_data": MD, "state": STATE, "heartbeats": 70}
    frames = [(f.mono_ns - recorded.MONO0, ids[f.stream], f.payload) for f in recorded.session()]
    frames.append((75_000_000, STATE, recorded.risk_snapshot()))
    for at, stream_id, payload in sorted(frames, key=lambda f: f[0]):
        writer.append(
            payload, stream_id=stream_id, receive_time_ns=recorded.T0 + at, session_id=1, position=0
        )
    writer.close()
    return path


def test_a_paused_replay_80x24(snap_compare, tmp_path: Path) -> None:
    catalog = load_instruments()
    link = JournalLink(
        open_journal(fixed_journal(tmp_path)), catalog, TuiConfig(), paused=True, mono_clock=FakeMono()
    )
    app = AerodeskApp(link, catalog, TuiConfig(), wall_clock=link.replay_now, frozen=True)

    async def seek_and_settle(pilot: Pilot) -> None:
        link.seek(recorded.T0 + 100_000_000)
        await settle(pilot, link)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=seek_and_settle)
