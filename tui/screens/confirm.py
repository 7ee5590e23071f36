"""Confirmation dialogs: a yes/no for desk actions, the kill switch (one key, then Enter), and the
release (a reason is required, then a confirmation)."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True on y / Enter, False on n / Escape."""

    BINDINGS = [
        Binding("y,enter", "confirm", "Yes", id="confirm.yes"),
        Binding("n,escape", "cancel", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: str, *, danger: bool = True) -> None:
        super().__init__(classes="-danger" if danger else "")
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(escape(self.title_text), id="dialog-title")
            yield Static(escape(self.body), id="dialog-body")
            with Horizontal(id="dialog-buttons"):
                yield Button("Yes [y]", id="yes", variant="error")
                yield Button("No [n]", id="no")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ReasonScreen(ModalScreen[str | None]):
    """A reason, then Enter to confirm; Escape cancels. `required`: an empty reason is refused inline."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="reason.cancel")]

    def __init__(self, title: str, body: str, *, default: str = "", required: bool = False) -> None:
        super().__init__(classes="-danger")
        self.title_text = title
        self.body = body
        self.default = default
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(escape(self.title_text), id="dialog-title")
            yield Static(escape(self.body), id="dialog-body")
            yield Input(self.default, placeholder="reason", id="reason")
            yield Static("", id="reason-error", classes="field-error")
            with Horizontal(id="dialog-buttons"):
                yield Button("Confirm [enter]", id="yes", variant="error")
                yield Button("Cancel [esc]", id="no")

    def on_mount(self) -> None:
        field = self.query_one("#reason", Input)
        field.cursor_blink = not getattr(self.app, "frozen", False)
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self._confirm()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _confirm(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if self.required and not reason:
            self.query_one("#reason-error", Static).update("a reason is required")
            return
        self.dismiss(reason)
