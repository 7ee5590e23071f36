"""StaticLink: serves the view of a DeskModel that was folded in advance (a recorded state), with no bus.

Used to render a fixed, reproducible desk (snapshot tests, documentation screenshots). Commands are
not sent anywhere: each is answered FAILED ("no desk attached") and kept in `submitted`.
"""

from __future__ import annotations

from collections.abc import Callable

from tui.commands import ActionOutcome, Command, Outcome, ReadOnlyRefused
from tui.model.desk import DeskModel
from tui.model.view import DeskView


def _noop(*_args: object) -> None:
    pass


class StaticLink:
    def __init__(self, model: DeskModel, *, now_ns: int, wall_ns: int, read_only: bool = False) -> None:
        self.model = model
        self.instance = model.instance
        self.read_only = read_only
        self.now_ns = now_ns
        self.wall_ns = wall_ns
        self.on_view: Callable[[], None] = _noop
        self.on_outcome: Callable[[ActionOutcome], None] = _noop
        self.failure: BaseException | None = None
        self.submitted: list[Command] = []
        self._view: DeskView | None = None

    def start(self) -> StaticLink:
        self.publish()
        return self

    def publish(self) -> None:
        """Build a view of the model as it is now and announce it (call again after folding more)."""
        self._view = self.model.view(self.now_ns, self.wall_ns)
        self.on_view()

    def stop(self, timeout_s: float = 5.0) -> None:
        pass

    def submit(self, command: Command) -> None:
        if self.read_only:
            raise ReadOnlyRefused(command.label)
        self.submitted.append(command)
        self.on_outcome(ActionOutcome(command.label, Outcome.FAILED, "no desk attached (a recorded view)"))

    def take_view(self) -> DeskView | None:
        return self._view

    def latest_view(self) -> DeskView | None:
        return self._view
