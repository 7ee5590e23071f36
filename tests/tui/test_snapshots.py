"""Snapshot tests: the TUI at fixed sizes (80x24 and 120x40) from a deterministic recorded state.

The state is a fixed sequence of encoded bus messages (tests/tui/recorded.py) folded by the real model;
clocks are frozen and the staleness timer is off, so the screen is the same on every run. Update the
snapshots after an intended change with `uv run pytest tests/tui/test_snapshots.py --snapshot-update`
and review the SVGs under tests/tui/__snapshots__/.
"""

from __future__ import annotations

from textual.pilot import Pilot

from core.instruments import load_instruments
from tests.tui.recorded import VIEW_MONO, VIEW_WALL, recorded_model
from tui.app import AerodeskApp
from tui.config import TuiConfig
from tui.static_link import StaticLink

NAMES = {1: "demo-mm", 3: "eth-mm"}


def recorded_app(*, kill: bool = False, read_only: bool = False, theme: str = "dark") -> AerodeskApp:
    link = StaticLink(
        recorded_model(kill_engaged=kill), now_ns=VIEW_MONO, wall_ns=VIEW_WALL, read_only=read_only
    )
    return AerodeskApp(
        link,
        load_instruments(),
        TuiConfig(),  # the built-in defaults, not the editable configs/tui.toml
        theme=theme,
        strategy_names=NAMES,
        mono_clock=lambda: VIEW_MONO,
        wall_clock=lambda: VIEW_WALL,
        frozen=True,
    )


async def settle(pilot: Pilot) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def test_desk_80x24(snap_compare) -> None:
    assert snap_compare(recorded_app(), terminal_size=(80, 24), run_before=settle)


def test_desk_120x40(snap_compare) -> None:
    assert snap_compare(recorded_app(), terminal_size=(120, 40), run_before=settle)


def test_kill_engaged_120x40(snap_compare) -> None:
    assert snap_compare(recorded_app(kill=True), terminal_size=(120, 40), run_before=settle)


def test_kill_engaged_risk_pane_80x24(snap_compare) -> None:
    assert snap_compare(recorded_app(kill=True), terminal_size=(80, 24), press=["4"], run_before=settle)


def test_light_theme_120x40(snap_compare) -> None:
    assert snap_compare(recorded_app(theme="light"), terminal_size=(120, 40), run_before=settle)


def test_read_only_hides_actions_80x24(snap_compare) -> None:
    assert snap_compare(recorded_app(read_only=True), terminal_size=(80, 24), run_before=settle)


def test_kill_confirmation_80x24(snap_compare) -> None:
    assert snap_compare(recorded_app(), terminal_size=(80, 24), press=["k"], run_before=settle)


def test_order_ticket_inline_error_80x24(snap_compare) -> None:
    async def fill_bad_ticket(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press(*"0.00001", "tab")
        await pilot.press(*"60000", "enter")
        await settle(pilot)

    assert snap_compare(recorded_app(), terminal_size=(80, 24), run_before=fill_bad_ticket)


def test_health_pane_80x24(snap_compare) -> None:
    assert snap_compare(recorded_app(), terminal_size=(80, 24), press=["5"], run_before=settle)
