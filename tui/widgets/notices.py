"""The message log: what the TUI itself says (connected, rejoined, resynced) and every action's answer
from the oms, newest first."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui import fmt
from tui.model.view import Notice
from tui.widgets.text import set_text

_STYLE = {"error": "bold red", "warning": "yellow", "information": ""}


class NoticesPane(Vertical):
    BORDER_TITLE = "Messages"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key: Any = None

    def compose(self) -> ComposeResult:
        yield Static("", id="notices-text")

    def show(self, notices: tuple[Notice, ...]) -> None:
        if notices == self._key:
            return
        self._key = notices
        lines = []
        for n in notices[:100]:
            style = _STYLE.get(n.severity, "")
            text = n.text.replace("[", r"\[")
            lines.append(f"[dim]{fmt.clock(n.wall_ns)}[/dim] " + (f"[{style}]{text}[/]" if style else text))
        set_text(
            self.query_one("#notices-text", Static), "\n".join(lines) or "[dim]no messages[/dim]", layout=True
        )
