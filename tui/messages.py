"""Typed messages the bus worker posts to the UI (from its own thread; Textual queues them safely)."""

from __future__ import annotations

from textual.message import Message

from tui.commands import ActionOutcome


class ViewReady(Message):
    """A new DeskView is ready: take it with DeskLink.take_view() (only the newest is kept)."""


class ActionResult(Message):
    """The oms answered a command (or did not, in time)."""

    def __init__(self, outcome: ActionOutcome) -> None:
        super().__init__()
        self.outcome = outcome
