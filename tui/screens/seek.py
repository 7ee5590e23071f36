"""Seek dialog of a journal replay: a time of the session, an offset, start or end. Bad input is
answered inline and the dialog stays open; Enter with a good target seeks, Escape cancels."""

from __future__ import annotations

from collections.abc import Callable

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

HELP = (
    "HH:MM:SS[.fff] (UTC, of the session), +N or -N seconds (also +2m, -500ms), start, end, "
    "or an ISO-8601 time."
)


class SeekScreen(ModalScreen[int | None]):
    """Dismisses with the target replay time (epoch ns), or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="seek.cancel")]

    def __init__(self, parse: Callable[[str], int], describe_range: str) -> None:
        super().__init__()
        self.parse = parse
        self.describe_range = describe_range

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Seek to", id="dialog-title")
            yield Static(escape(f"{HELP}\nThe recording: {self.describe_range}"), id="dialog-body")
            yield Input(placeholder="e.g. 20:35:52.5 or -10", id="seek-input")
            yield Static("", id="seek-error", classes="field-error")

    def on_mount(self) -> None:
        self.query_one("#seek-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            target = self.parse(event.value)
        except ValueError as e:
            self.query_one("#seek-error", Static).update(escape(str(e)))
            return
        self.dismiss(target)

    def action_cancel(self) -> None:
        self.dismiss(None)
