"""AerodeskApp: the trader's TUI. It attaches to a desk through a DeskLink (the bus worker) and renders
the views it builds; every action goes to the oms as a control message through the link.

    app = AerodeskApp(DeskLink("demo", catalog, config), catalog, config)
    app.run()
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen

from core.instruments import InstrumentCatalog
from tui import commands as cmd
from tui.config import ACTIONS, BINDINGS, REPLAY_BINDINGS, TuiConfig
from tui.messages import ActionResult, ViewReady
from tui.model.view import DeskView, Notice
from tui.screens.desk import DeskScreen
from tui.widgets.context import RenderContext

STYLES = Path(__file__).parent / "styles"
THEMES = {"dark": "textual-dark", "light": "textual-light"}
STALE_CHECK_S = 0.5
_OUTCOMES_KEPT = 50


class Link(Protocol):
    """What the app needs from its source of views (DeskLink live; StaticLink for a fixed state;
    JournalLink for a recorded journal, which also has `is_replay` and `read_only_reason`)."""

    instance: str
    read_only: bool
    on_view: Callable[[], None]
    on_outcome: Callable[[cmd.ActionOutcome], None]
    failure: BaseException | None

    def start(self) -> Any: ...
    def stop(self, timeout_s: float = 5.0) -> None: ...
    def submit(self, command: cmd.Command) -> None: ...
    def take_view(self) -> DeskView | None: ...


class TuiLogHandler(logging.Handler):
    """Library warnings (bus, codec) go to the message log, never to the terminal under the TUI."""

    def __init__(self, sink: Callable[[str, str], None]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            severity = "error" if record.levelno >= logging.ERROR else "warning"
            self.sink(severity, record.getMessage())
        except Exception:  # a log handler must never raise
            pass


class AerodeskApp(App):
    TITLE = "aerodesk"
    CSS_PATH = [STYLES / "app.tcss", STYLES / "panes.tcss", STYLES / "dialogs.tcss"]
    ENABLE_COMMAND_PALETTE = True
    # Ctrl-C quits (and `aerodesk demo` then stops the desk it started), as in any terminal program.
    BINDINGS = [Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.ctrl_c_quit")]

    def __init__(
        self,
        link: Link,
        catalog: InstrumentCatalog,
        config: TuiConfig,
        *,
        theme: str | None = None,
        strategy_names: dict[int, str] | None = None,
        mono_clock: Callable[[], int] = time.monotonic_ns,
        wall_clock: Callable[[], int] = time.time_ns,
        frozen: bool = False,
    ) -> None:
        super().__init__()
        self.link = link
        self.catalog = catalog
        self.config = config
        self.read_only = link.read_only
        # A journal replay (JournalLink): its own screen and controls; never "stale" for being paused.
        self.replay = bool(getattr(link, "is_replay", False))
        self.read_only_reason: str = getattr(
            link, "read_only_reason", "read-only session: actions are disabled"
        )
        self.theme_name = theme or config.theme
        self.mono_clock = mono_clock
        self.wall_clock = wall_clock
        # A frozen app shows a recorded state exactly the same every time (snapshot tests): no staleness
        # timer and no blinking cursors.
        self.frozen = frozen
        self.ctx = RenderContext(catalog, dict(strategy_names or {}))
        self.outcomes: list[cmd.ActionOutcome] = []
        self.views_rendered = 0
        self.on_frame: Callable[[DeskView], None] | None = None  # after each view is rendered (benchmarks)
        self.last_view: DeskView | None = None
        self._log_handler: TuiLogHandler | None = None
        self._log_propagate = True
        # What this process says itself (action answers, library warnings): shown with the link's notices.
        self.local_notices: deque[Notice] = deque(maxlen=_OUTCOMES_KEPT)
        self.set_keymap({**config.keys, **config.replay_keys} if self.replay else config.keys)

    # -- lifecycle --------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.theme = THEMES[self.theme_name]
        self._capture_logs()
        if self.replay:
            from tui.replay_screen import ReplayDeskScreen  # a replay's screen: only for --journal

            self.desk_screen: DeskScreen = ReplayDeskScreen(
                self.ctx,
                self.config.model.depth,
                self.link,  # type: ignore[arg-type]
            )
        else:
            self.desk_screen = DeskScreen(self.ctx, self.config.model.depth, self.read_only)
        self.push_screen(self.desk_screen)
        self.link.on_view = lambda: self.post_message(ViewReady())
        self.link.on_outcome = lambda outcome: self.post_message(ActionResult(outcome))
        self.link.start()
        if not self.frozen:
            self.set_interval(STALE_CHECK_S, self.check_staleness)

    def on_unmount(self) -> None:
        self.link.stop()
        if self._log_handler is not None:
            logger = logging.getLogger("aerodesk")
            logger.removeHandler(self._log_handler)
            logger.propagate = self._log_propagate

    def _capture_logs(self) -> None:
        handler = TuiLogHandler(
            lambda severity, text: self.local_notices.appendleft(Notice(self.wall_clock(), severity, text))
        )
        logger = logging.getLogger("aerodesk")
        logger.addHandler(handler)
        self._log_propagate = logger.propagate
        logger.propagate = False  # nothing may print under the TUI
        self._log_handler = handler

    # -- views ------------------------------------------------------------------------------------
    def on_view_ready(self, _message: ViewReady) -> None:
        view = self.link.take_view()
        if view is None or view is self.last_view:
            if self.replay:
                self._render(None)  # the replay's position or state changed (a seek in progress)
            return
        self.last_view = view
        self.views_rendered += 1
        self._render(view)
        if self.on_frame is not None:
            self.on_frame(view)

    def screen_stale_reason(self) -> str:
        """Why the screen itself is not live ("" when it is): the worker failed or stopped updating."""
        failure = self.link.failure
        if failure is not None:
            return f"the bus worker failed: {type(failure).__name__}: {failure}"
        view = self.last_view
        if view is None or self.replay:
            return ""  # a paused replay sends no views, and its views carry the recorded clock
        age = self.mono_clock() - view.built_ns
        if age > self.config.model.rules.stale_after_ns:
            return f"no update from the bus worker for {age / 1e9:.1f} s"
        return ""

    def check_staleness(self) -> None:
        """On the UI's own clock: marks the screen stale even when no view arrives at all."""
        self._render(None)

    def _render(self, view: DeskView | None) -> None:
        if not self.desk_screen.ready or self._exit:
            return  # not composed yet (it renders the last view when it is), or shutting down
        with contextlib.suppress(NoMatches):  # a view that arrived while the app tears its widgets down
            self.desk_screen.show_view(view, self.screen_stale_reason(), self.wall_clock())

    # -- actions ----------------------------------------------------------------------------------
    def submit(self, command: cmd.Command) -> None:
        try:
            self.link.submit(command)
        except cmd.ReadOnlyRefused as e:
            self.refuse_read_only(e.label)

    def refuse_read_only(self, label: str) -> None:
        outcome = cmd.ActionOutcome(label, cmd.Outcome.FAILED, self.read_only_reason)
        self._record(outcome)
        self.notify(outcome.describe(), severity="error", timeout=4)

    def on_action_result(self, message: ActionResult) -> None:
        outcome = message.outcome
        self._record(outcome)
        if outcome.outcome != cmd.Outcome.SENT:
            severity = "error" if outcome.outcome.severity == "error" else "information"
            self.notify(outcome.describe(), severity=severity, timeout=6 if severity == "error" else 3)

    def _record(self, outcome: cmd.ActionOutcome) -> None:
        self.outcomes.append(outcome)
        del self.outcomes[:-_OUTCOMES_KEPT]
        self.local_notices.appendleft(Notice(self.wall_clock(), outcome.outcome.severity, outcome.describe()))
        if self.screen is not None:
            self.desk_screen.show_outcome(outcome)

    def keys_of(self, binding_id: str) -> set[str]:
        if binding_id in REPLAY_BINDINGS:
            return _key_set(self.config.replay_keys.get(binding_id, ""))
        keys = _key_set(self.config.keys.get(binding_id, ""))
        if self.replay:  # in a replay, the replay controls take their keys
            keys -= {k for v in self.config.replay_keys.values() for k in _key_set(v)}
        return keys

    def action_toggle_theme(self) -> None:
        self.theme_name = "light" if self.theme_name == "dark" else "dark"
        self.theme = THEMES[self.theme_name]

    # -- command palette --------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, DeskScreen):
            return
        for binding_id, (_key, label, acts) in BINDINGS.items():
            if acts and self.read_only:
                continue
            if binding_id == "quit":
                continue  # Textual's own palette has Quit
            keys = ", ".join(sorted(self.keys_of(binding_id))) or "palette only"
            action = _palette_action(screen, binding_id)
            yield SystemCommand(f"{_PALETTE_TITLES.get(binding_id, label)}", f"key: {keys}", action)
        if self.replay:
            for binding_id, (_key, _label, title) in REPLAY_BINDINGS.items():
                keys = ", ".join(sorted(self.keys_of(binding_id)))
                yield SystemCommand(title, f"key: {keys}", _palette_run(screen, binding_id))
        for iid in screen._instrument_ids():
            inst = self.catalog.get(iid)
            if inst is None:
                continue
            yield SystemCommand(
                f"Show {inst.symbol}",
                f"ladder of {inst.symbol}@{inst.venue}",
                lambda iid=iid: screen.set_instrument(iid),
                discover=False,
            )


_PALETTE_TITLES = {
    "kill": "Engage kill switch",
    "release": "Release kill switch",
    "flatten": "Flatten the selected instrument",
    "flatten_all": "Flatten all instruments",
    "cancel_order": "Cancel the selected order",
    "cancel_all": "Cancel all working orders",
    "order_ticket": "New manual order",
    "pick_instrument": "Switch instrument",
    "next_instrument": "Next instrument",
    "prev_instrument": "Previous instrument",
    "pane_positions": "Show positions",
    "pane_orders": "Show working orders",
    "pane_fills": "Show recent fills",
    "pane_risk": "Show risk",
    "pane_health": "Show desk health",
    "pane_log": "Show messages",
    "sort": "Sort the focused table",
    "toggle_theme": "Toggle the dark and light themes",
}


def _key_set(value: str) -> set[str]:
    return {k.strip() for k in value.split(",") if k.strip()}


def _palette_run(screen: DeskScreen, action: str) -> Callable[[], Any]:
    async def run() -> None:
        await screen.run_action(action)

    return run


def _palette_action(screen: DeskScreen, binding_id: str) -> Callable[[], Any]:
    from tui.screens.desk import _ACTION_OF

    return _palette_run(screen, _ACTION_OF[binding_id])


__all__ = ["ACTIONS", "AerodeskApp", "Link"]
