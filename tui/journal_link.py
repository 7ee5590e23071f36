"""JournalLink: the TUI's source of views when it opens a recorded journal instead of a live desk.

It is a link like DeskLink (start, stop, submit, take_view, latest_view, on_view, on_outcome, failure,
model, instance, read_only), but its worker thread folds a journal with a ReplayEngine instead of
polling the bus. The UI thread never reads the journal: it queues controls (pause, step, seek, speed)
and takes finished views and ReplayStatus snapshots. Every desk action is refused: a replay is
read-only ("journal replay: read-only").

    link = JournalLink(open_journal(path), catalog, config, speed=Fraction(2), paused=True)
    app = AerodeskApp(link, catalog, config, wall_clock=link.replay_now)

Time: the worker reads only the injected monotonic clock, so a test that injects a fake clock and
calls `sync()` after moving it sees exactly the replay time that clock implies.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from core.instruments import InstrumentCatalog
from tui.commands import ActionOutcome, Command, ReadOnlyRefused
from tui.config import TuiConfig
from tui.model.desk import DeskModel
from tui.model.view import DeskView
from tui.replay_clock import faster, slower
from tui.replay_engine import FOLD_BUDGET, ReplayEngine, ReplayStatus
from tui.replay_fold import ReplayStreams
from tui.replay_source import ReplaySource

log = logging.getLogger("aerodesk.tui")

READ_ONLY_REASON = "journal replay: read-only"
IDLE_VIEW_NS = 500_000_000  # while playing, a view at least this often so ages move on screen
MAX_WAIT_S = 0.5  # the longest the worker sleeps between looks at its clock
MIN_WAIT_S = 0.001


def _noop(*_args: Any) -> None:
    pass


@dataclass(frozen=True, slots=True)
class _Control:
    """A control from the UI thread, applied by the worker in order."""

    name: str  # toggle_pause | pause | resume | step_record | step_message | seek | seek_by | speed | ...
    value: Any = None
    done: threading.Event | None = None  # set once applied and a view of the result is published


class JournalLink:
    read_only = True
    read_only_reason = READ_ONLY_REASON
    is_replay = True

    def __init__(
        self,
        source: ReplaySource,
        catalog: InstrumentCatalog,
        config: TuiConfig,
        *,
        speed: Fraction | None = Fraction(1),
        paused: bool = False,
        on_view: Callable[[], None] = _noop,
        on_outcome: Callable[[ActionOutcome], None] = _noop,
        mono_clock: Callable[[], int] = time.monotonic_ns,
        streams: ReplayStreams | None = None,
        budget: int = FOLD_BUDGET,
    ) -> None:
        self.source = source
        self.instance = source.instance
        self.catalog = catalog
        self.config = config
        self.on_view = on_view
        self.on_outcome = on_outcome
        self.failure: BaseException | None = None
        self._mono = mono_clock
        self.engine = ReplayEngine(
            source,
            catalog,
            config.model,
            speed=speed,
            paused=paused,
            mono_ns=mono_clock(),
            streams=streams,
            budget=budget,
        )
        self._controls: queue.SimpleQueue[_Control] = queue.SimpleQueue()
        self._latest: DeskView | None = None
        self._status: ReplayStatus = self.engine.status(mono_clock())
        self._view_pending = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.views_built = 0
        # worker-thread state
        self._waiters: list[threading.Event] = []
        self._force_view = True
        self._next_view_ns = 0
        self._last_view_ns = 0

    # -- UI thread --------------------------------------------------------------------------------
    @property
    def model(self) -> DeskModel:
        """The model being folded (a new one after a backward seek); the worker's: read it after sync()."""
        return self.engine.model

    @property
    def status(self) -> ReplayStatus:
        return self._status

    def replay_now(self) -> int:
        """Replay time of the newest status: the TUI's wall clock in a replay."""
        return self._status.replay_ns

    def start(self) -> JournalLink:
        self._thread = threading.Thread(target=self._run, name="aerodesk-tui-replay", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._controls.put(_Control("wake"))
        if self._thread is not None:
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, command: Command) -> None:
        """Every desk action is refused: nothing is sent anywhere from a replay."""
        raise ReadOnlyRefused(command.label)

    def take_view(self) -> DeskView | None:
        self._view_pending = False
        return self._latest

    def latest_view(self) -> DeskView | None:
        return self._latest

    def control(self, name: str, value: Any = None) -> None:
        """Queue a control for the worker (see _apply for the names)."""
        self._controls.put(_Control(name, value))

    def toggle_pause(self) -> None:
        self.control("toggle_pause")

    def step(self, message: bool = False) -> None:
        self.control("step_message" if message else "step_record")

    def seek(self, target_ns: int) -> None:
        self.control("seek", target_ns)

    def seek_by(self, delta_ns: int) -> None:
        self.control("seek_by", delta_ns)

    def seek_start(self) -> None:
        self.control("seek", self.source.first_ns)

    def seek_end(self) -> None:
        self.control("seek", self.source.last_ns)

    def faster(self) -> None:
        self.control("faster")

    def slower(self) -> None:
        self.control("slower")

    def set_speed(self, speed: Fraction | None) -> None:
        self.control("speed", speed)

    def sync(self, timeout_s: float = 30.0) -> ReplayStatus:
        """Wait until the worker applied every control queued so far, folded what is due at the clock's
        time now (a seek to its end) and published a view of it; returns that status."""
        done = threading.Event()
        self._controls.put(_Control("sync", done=done))
        if not done.wait(timeout_s):
            raise TimeoutError(f"the replay worker did not answer within {timeout_s} s")
        if self.failure is not None:
            raise RuntimeError(f"the replay worker failed: {self.failure}") from self.failure
        return self._status

    # -- worker thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as e:  # the UI shows it; the thread must not die silently
            self.failure = e
            log.exception("tui replay worker failed")
            with contextlib.suppress(Exception):  # say so on screen if the model still can
                self.engine.model.notice("error", f"replay worker failed: {type(e).__name__}: {e}")
                self._publish(self._mono())
        finally:
            for waiter in self._waiters:
                waiter.set()

    def _loop(self) -> None:
        engine = self.engine
        while not self._stop.is_set():
            self._drain()
            now = self._mono()
            folded = engine.advance(now)
            if engine.seeking:
                self._publish_status(now)  # progress only: a half-folded model is never shown
                continue
            if folded:
                self._force_view = self._force_view or now >= self._next_view_ns
            playing = not engine.clock.paused and not engine.ended
            idle_due = playing and now - self._last_view_ns >= IDLE_VIEW_NS
            if self._force_view or idle_due or (folded and now >= self._next_view_ns):
                self._publish(now)
            elif folded:
                self._publish_status(now)
            if self._waiters:
                self._publish(now)
                for waiter in self._waiters:
                    waiter.set()
                self._waiters.clear()
            if engine.clock.is_max and playing:
                wait = 0.0  # MAX: fold on, only taking controls between batches
            else:
                wait = self._wait_s(now, playing)
            self._wait(wait)

    def _wait_s(self, now: int, playing: bool) -> float:
        if not playing:
            return MAX_WAIT_S
        engine = self.engine
        waits = [self._next_view_ns - now, self._last_view_ns + IDLE_VIEW_NS - now]
        due = engine.next_record_ns()
        if due is not None:
            until = engine.clock.mono_until(due, now)
            if until is not None:
                waits.append(until)
        wait_ns = min(w for w in waits)
        return min(MAX_WAIT_S, max(MIN_WAIT_S, wait_ns / 1e9))

    def _wait(self, seconds: float) -> None:
        try:
            control = self._controls.get(timeout=seconds) if seconds > 0 else self._controls.get_nowait()
        except queue.Empty:
            return
        self._apply(control)

    def _drain(self) -> None:
        while True:
            try:
                control = self._controls.get_nowait()
            except queue.Empty:
                return
            self._apply(control)

    def _apply(self, control: _Control) -> None:
        engine = self.engine
        now = self._mono()
        match control.name:
            case "toggle_pause":
                engine.toggle_pause(now)
            case "pause":
                engine.pause(now)
            case "resume":
                engine.resume(now)
            case "step_record":
                engine.step_record(now)
            case "step_message":
                engine.step_message(now)
            case "seek":
                engine.seek(int(control.value), now)
            case "seek_by":
                engine.seek_relative(int(control.value), now)
            case "faster":
                engine.set_speed(faster(engine.clock.speed), now)
            case "slower":
                engine.set_speed(slower(engine.clock.speed), now)
            case "speed":
                engine.set_speed(control.value, now)
            case "sync":
                assert control.done is not None
                self._waiters.append(control.done)
                return
            case "wake":
                return
            case _:
                raise ValueError(f"unknown replay control {control.name!r}")
        self._force_view = True

    def _publish_status(self, now: int) -> None:
        status = self.engine.status(now)
        if status != self._status:
            self._status = status
            self._announce()

    def _publish(self, now: int) -> None:
        engine = self.engine
        if not engine.seeking:
            self._latest = engine.view(now)
            self.views_built += 1
        self._status = engine.status(now)
        self._force_view = False
        self._last_view_ns = now
        self._next_view_ns = now + 1_000_000_000 // self.config.render_hz
        self._announce()

    def _announce(self) -> None:
        if not self._view_pending:
            self._view_pending = True
            self.on_view()
