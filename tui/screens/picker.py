"""Pick the instrument the ladder shows: every instrument with market data first, then the rest."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class InstrumentPickerScreen(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="picker.cancel")]

    def __init__(self, choices: list[tuple[int, str]], current: int) -> None:
        super().__init__()
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Instrument (enter to choose, esc to cancel)", id="dialog-title")
            yield OptionList(*[Option(text, id=str(iid)) for iid, text in self.choices], id="picker")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        for i, (iid, _text) in enumerate(self.choices):
            if iid == self.current:
                picker.highlighted = i
        picker.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
