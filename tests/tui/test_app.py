"""The app's own behaviour on a fixed recorded state (no desk): every action is a footer binding and a
command-palette entry, keys remap from config, read-only hides and refuses, panes and sorting work,
a stale screen is marked. Behaviour against a live desk is in test_live*.py."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual.widgets import Input, Static

from core.instruments import load_instruments
from tests.tui.live import reason_dialog, until
from tests.tui.recorded import VIEW_MONO, VIEW_WALL, recorded_model
from tui import commands as cmd
from tui.app import AerodeskApp
from tui.config import ACTIONS, BINDINGS, TuiConfig
from tui.screens.confirm import ConfirmScreen, ReasonScreen
from tui.screens.picker import InstrumentPickerScreen
from tui.screens.ticket import OrderTicketScreen
from tui.static_link import StaticLink
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.ladder import LadderPane


def make_app(*, read_only: bool = False, config: TuiConfig | None = None, mono: list[int] | None = None):
    clock = mono if mono is not None else [VIEW_MONO]
    link = StaticLink(recorded_model(), now_ns=VIEW_MONO, wall_ns=VIEW_WALL, read_only=read_only)
    app = AerodeskApp(
        link,
        load_instruments(),
        config or TuiConfig(),
        mono_clock=lambda: clock[0],
        wall_clock=lambda: VIEW_WALL,
    )
    return app, link


def _action_of(binding_id: str) -> str:
    from tui.screens.desk import _ACTION_OF

    return _ACTION_OF[binding_id]


def run(scenario) -> None:
    asyncio.run(scenario())


def test_every_action_is_in_the_footer_or_the_palette_and_runs_from_the_palette() -> None:
    async def scenario() -> None:
        app, link = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            footer = {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show}
            titles = {c.title: c for c in app.get_system_commands(app.screen)}
            for binding_id in BINDINGS:
                in_palette = any(f"key: {app.config.keys[binding_id]}" == c.help for c in titles.values())
                in_footer = _action_of(binding_id) in footer
                assert in_palette or in_footer, f"{binding_id} is neither in the footer nor in the palette"
                if binding_id != "quit":
                    assert in_palette, f"{binding_id} is not in the command palette"
            assert "app.quit" in footer and "Quit" in titles
            assert {
                "kill",
                "release",
                "flatten",
                "flatten_all",
                "cancel_order",
                "cancel_all",
                "order_ticket",
            } <= footer
            # a palette entry runs the action: the kill switch asks for confirmation first
            await titles["Engage kill switch"].callback()
            await pilot.pause()
            assert isinstance(app.screen, ReasonScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert link.submitted == []  # cancelled: nothing was sent
            await titles["Switch instrument"].callback()
            await pilot.pause()
            assert isinstance(app.screen, InstrumentPickerScreen)

    run(scenario)


def test_keys_remap_from_config() -> None:
    async def scenario() -> None:
        config = replace(TuiConfig(), keys={**TuiConfig().keys, "kill": "ctrl+k", "flatten_all": "k"})
        app, link = make_app(config=config)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+k")
            await pilot.pause()
            assert isinstance(app.screen, ReasonScreen), "the remapped kill key did not open the kill dialog"
            await pilot.press("escape")
            await pilot.press("k")  # now flatten all
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) and "EVERY" in app.screen.title_text
            await pilot.press("y")
            await pilot.pause()
            assert link.submitted == [cmd.Flatten(0, reason="flatten all from the TUI", label="flatten all")]

    run(scenario)


def test_actions_become_commands_with_their_confirmations() -> None:
    """Each key waits for the dialog it answers: one sent before a pushed screen has mounted (and focused
    its field) reaches no dialog, which a loaded machine makes likely."""

    async def scenario() -> None:
        app, link = make_app()

        def submitted(n: int):
            return lambda: len(link.submitted) == n

        def confirming() -> bool:
            return isinstance(app.screen, ConfirmScreen)

        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("k")  # kill: one key plus confirmation
            await reason_dialog(pilot, "the kill dialog")
            await pilot.press("enter")
            await until(pilot, submitted(1), "the kill")
            await pilot.press("F")  # flatten all, declined
            await until(pilot, confirming, "the flatten-all confirmation")
            await pilot.press("n")
            await until(pilot, lambda: app.screen is app.desk_screen, "the declined dialog to close")
            await pilot.press("f")  # flatten the selected instrument (the first with data: BTC-USD)
            await until(pilot, confirming, "the flatten confirmation")
            await pilot.press("y")
            await until(pilot, submitted(2), "the flatten")
            await pilot.press("K")  # release: a reason is required, so nothing yet
            dialog = await reason_dialog(pilot, "the release dialog")
            await pilot.press("enter")
            refusal = dialog.query_one("#reason-error", Static)
            await until(pilot, lambda: "a reason is required" in str(refusal.render()), "the refusal")
            assert app.screen is dialog and len(link.submitted) == 2, "released without a reason"
            await pilot.press(*"test over")
            typed = dialog.query_one("#reason", Input)
            await until(pilot, lambda: typed.value == "test over", "the reason typed")
            await pilot.press("enter")
            await until(pilot, confirming, "the release confirmation")
            await pilot.press("y")
            await until(pilot, submitted(3), "the release")
            kinds = [type(c).__name__ for c in link.submitted]
            assert kinds == ["EngageKill", "Flatten", "ReleaseKill"]
            assert link.submitted[1].instrument_id == 1 and link.submitted[2].reason == "test over"
            # the answer (here: no desk) is shown, never a silent success
            await until(
                pilot, lambda: app.outcomes and app.outcomes[-1].outcome == cmd.Outcome.FAILED, "the answer"
            )
            assert "no desk attached" in str(app.desk_screen.query_one("#outcome").render())

    run(scenario)


def test_read_only_hides_actions_from_footer_and_palette_and_refuses_them() -> None:
    async def scenario() -> None:
        app, link = make_app(read_only=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            active = {b.binding.action for b in app.screen.active_bindings.values()}
            assert not active & ACTIONS
            titles = {c.title for c in app.get_system_commands(app.screen)}
            assert not {"Engage kill switch", "Flatten all instruments", "New manual order"} & titles
            assert "Switch instrument" in titles
            await pilot.press("k", "o", "C")
            await pilot.pause()
            assert app.screen is app.desk_screen and link.submitted == []
            assert [o.label for o in app.outcomes] == ["kill", "order", "cancel all"]
            assert all("read-only" in o.text for o in app.outcomes)

    run(scenario)


def test_the_order_ticket_refuses_bad_input_inline_and_sends_exact_mantissas() -> None:
    async def scenario() -> None:
        app, link = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("o")
            await pilot.pause()
            assert isinstance(app.screen, OrderTicketScreen)
            await pilot.press(*"1.23456", "tab", *"60000.5", "enter")  # 5 decimals: BTC-USD takes 4
            await pilot.pause()
            assert isinstance(app.screen, OrderTicketScreen) and link.submitted == []
            assert "0.0001" in str(app.screen.query_one("#ticket-error").render())
            qty = app.screen.query_one("#qty")
            qty.value = "1.2345"
            await pilot.press("ctrl+s")
            await pilot.pause()
            (order,) = link.submitted
            assert (order.instrument_id, order.qty, order.price) == (1, 12345, 6000050)

    run(scenario)


def test_panes_switch_and_tables_sort_by_value() -> None:
    async def scenario() -> None:
        app, _link = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("2")
            await pilot.pause()
            orders = app.desk_screen.query_one("#orders-table", KeyedTable)
            assert (
                app.desk_screen.query_one("#orders").display
                and not app.desk_screen.query_one("#fills").display
            )
            assert orders.has_focus and orders.row_keys == ["o11", "o12", "o13"]
            orders.move_cursor(column=4)  # price
            await pilot.press("s")
            await pilot.pause()
            assert orders.row_keys == ["o13", "o11", "o12"]  # 2999.90 < 60000.20 < 60001.00, as numbers
            await pilot.press("s")
            await pilot.pause()
            assert orders.row_keys == ["o12", "o11", "o13"]

    run(scenario)


def test_switching_instrument_redraws_the_ladder() -> None:
    async def scenario() -> None:
        app, _link = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            ladder = app.desk_screen.query_one(LadderPane)
            assert "BTC-USD" in str(ladder.query_one("#ladder-title").render())
            await pilot.press("right_square_bracket")
            await pilot.pause()
            assert "ETH-USD" in str(ladder.query_one("#ladder-title").render())
            assert ladder.table.texts()["b0"][2] == "3000.00"

    run(scenario)


def test_a_screen_without_fresh_views_is_marked_stale() -> None:
    async def scenario() -> None:
        mono = [VIEW_MONO]
        app, _link = make_app(mono=mono)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.screen_stale_reason() == ""
            mono[0] = VIEW_MONO + 4_000_000_000  # the bus worker has said nothing for 4 s
            app.check_staleness()
            await pilot.pause()
            banner = app.desk_screen.query_one("#banner")
            assert banner.display and "no update from the bus worker for 4.0 s" in str(banner.render())
            assert "STALE" in str(app.desk_screen.query_one("#status").render())
            assert app.desk_screen.has_class("-stale")

    run(scenario)
