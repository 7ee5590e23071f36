"""The desk screen of a journal replay: the live desk screen, read-only, with the replay bar under the
status bar and the replay controls (pause, step, seek, speed) as footer bindings and palette entries.
Controls go to the JournalLink's worker; the screen never reads the journal itself."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from tui import fmt
from tui.config import REPLAY_BINDINGS
from tui.journal_link import JournalLink
from tui.model.view import DeskView
from tui.replay_time import NS_PER_S, parse_seek, utc_date
from tui.screens.desk import DeskScreen, desk_bindings
from tui.screens.seek import SeekScreen
from tui.widgets.context import RenderContext
from tui.widgets.replay_bar import ReplayBar
from tui.widgets.status import StatusBar

SEEK_STEP_NS = 10 * NS_PER_S
# What fits the footer at 80 columns beside the screen's own; the rest are in the palette (ctrl+p).
_IN_FOOTER = {"replay_pause", "replay_step", "replay_slower", "replay_faster", "replay_seek"}


def replay_bindings() -> list[Binding]:
    # Priority: the keys act even when a table has focus (its arrow keys would take left/right).
    return [
        Binding(key, binding_id, label, show=binding_id in _IN_FOOTER, priority=True, id=binding_id)
        for binding_id, (key, label, _title) in REPLAY_BINDINGS.items()
    ]


class ReplayDeskScreen(DeskScreen, inherit_bindings=False):
    # The footer shows bindings in order: the replay controls, quit, then the desk screen's own.
    BINDINGS = [*replay_bindings(), *sorted(desk_bindings(), key=lambda b: b.id != "quit")]

    def __init__(self, ctx: RenderContext, max_depth: int, link: JournalLink) -> None:
        super().__init__(ctx, max_depth, read_only=True)
        self.link = link

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield widget
            if isinstance(widget, StatusBar):
                yield ReplayBar("", id="replay-bar")

    def on_mount(self) -> None:
        super().on_mount()
        damage = self.link.source.damage_text()
        if damage:
            self.notify(damage, severity="error", timeout=10)

    def show_view(self, view: DeskView | None, screen_stale: str, wall_ns: int) -> None:
        super().show_view(view, screen_stale, wall_ns)
        self.query_one(ReplayBar).show(self.link.status)

    # -- controls (applied by the link's worker, in order) -------------------------------------------
    def action_replay_pause(self) -> None:
        self.link.toggle_pause()

    def action_replay_step(self) -> None:
        self.link.step()

    def action_replay_step_message(self) -> None:
        self.link.step(message=True)

    def action_replay_slower(self) -> None:
        self.link.slower()

    def action_replay_faster(self) -> None:
        self.link.faster()

    def action_replay_back(self) -> None:
        self.link.seek_by(-SEEK_STEP_NS)

    def action_replay_forward(self) -> None:
        self.link.seek_by(SEEK_STEP_NS)

    def action_replay_start(self) -> None:
        self.link.seek_start()

    def action_replay_end(self) -> None:
        self.link.seek_end()

    def action_replay_seek(self) -> None:
        source = self.link.source

        def parse(text: str) -> int:
            return parse_seek(
                text, now_ns=self.link.status.replay_ns, first_ns=source.first_ns, last_ns=source.last_ns
            )

        def chosen(target: int | None) -> None:
            if target is not None:
                self.link.seek(target)

        span = (
            f"{utc_date(source.first_ns)} {fmt.clock(source.first_ns)} .. {fmt.clock(source.last_ns)} UTC"
            if source.total
            else "empty"
        )
        self.app.push_screen(SeekScreen(parse, span), chosen)
