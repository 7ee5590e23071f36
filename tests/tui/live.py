"""Helpers for Pilot tests of the TUI against a real running desk (tests/desk.py starts it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot

from core.bus import BusClient, aerodesk_dispatcher
from core.codec.messages import decode
from core.instruments import load_instruments
from tui.app import AerodeskApp
from tui.config import TuiConfig
from tui.link import DeskLink
from tui.model.desk import ModelConfig
from tui.model.staleness import StaleRules
from tui.screens.confirm import ReasonScreen

HANG_GUARD_S = 90.0  # a guard against hangs on a loaded machine, never a performance limit


def tui_config(**timing: int) -> TuiConfig:
    rules = StaleRules(
        stale_after_ns=timing.get("stale_after_ms", 3000) * 1_000_000,
        book_stale_after_ns=timing.get("book_stale_after_ms", 5000) * 1_000_000,
    )
    return replace(
        TuiConfig(),
        model=ModelConfig(rules=rules),
        action_timeout_ms=timing.get("action_timeout_ms", 5000),
        risk_refresh_ms=timing.get("risk_refresh_ms", 2000),
    )


def live_app(instance: str, *, read_only: bool = False, config: TuiConfig | None = None) -> AerodeskApp:
    catalog = load_instruments()
    cfg = config or tui_config()
    link = DeskLink(instance, catalog, cfg, read_only=read_only)
    return AerodeskApp(link, catalog, cfg)


async def until[T](pilot: Pilot, probe: Callable[[], T], what: str, timeout: float = HANG_GUARD_S) -> T:
    """Let the app run until `probe()` is truthy; fail with `what` on the hang guard."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def reason_dialog(pilot: Pilot, what: str) -> ReasonScreen:
    """Wait for the reason dialog with its field focused: a key that comes before the focus (the screen
    mounts after it is pushed, later still on a loaded machine) reaches no field and is lost."""
    app = pilot.app

    def ready() -> ReasonScreen | None:
        screen, focused = app.screen, app.focused  # (the field may not exist yet: it is not queried)
        if isinstance(screen, ReasonScreen) and focused is not None and focused.id == "reason":
            return screen if focused.screen is screen else None
        return None

    return await until(pilot, ready, what)


async def press(pilot: Pilot, *keys: str) -> None:
    """Press keys one by one, letting the app handle each.

    Pilot.press waits for the whole process to go idle (under 5 % CPU) after every key, up to a second:
    with a live desk the bus worker never idles, so that would be two seconds per key.
    """
    for key in keys:
        char = key if len(key) == 1 else _CHARS.get(key)
        pilot.app.post_message(events.Key(key, char))
        await pilot.pause(0.05)


_CHARS = {"space": " ", "enter": "\r", "tab": "\t"}


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


def table(app: AerodeskApp, table_id: str) -> dict[str, tuple[str, ...]]:
    """What a table (a KeyedTable, or the ladder) shows, row key -> cell texts."""
    return app.desk_screen.query_one(f"#{table_id}").texts()  # type: ignore[attr-defined]


def notices(app: AerodeskApp) -> list[str]:
    view = app.last_view
    link_notices = [n.text for n in view.link.notices] if view is not None else []
    return link_notices + [n.text for n in app.local_notices]


class StreamObserver:
    """A real untethered subscriber on one stream of the desk, keeping every decoded message."""

    def __init__(self, bus: BusClient, stream: str) -> None:
        self.messages: list[Any] = []
        dispatcher = aerodesk_dispatcher(
            decoder=decode, default_handler=lambda m, _h: self.messages.append(m)
        )
        self.sub = bus.subscriber(stream, dispatcher, tether=False)

    def poll(self) -> list[Any]:
        while self.sub.poll():
            pass
        return self.messages

    def of(self, template: Any) -> list[Any]:
        return [m for m in self.poll() if m.TEMPLATE_ID == template.TEMPLATE_ID]
