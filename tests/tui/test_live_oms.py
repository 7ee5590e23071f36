"""Pilot tests of the TUI against a real desk with the oms (recorder, oms, sim exec, synthetic md):
every action goes to the oms as a control message, and the outcome is checked through the oms itself
(its query answers), never through the TUI's own state.
"""

from __future__ import annotations

import importlib.util
import time

import pytest
from textual.widgets import Input, Static

from core.bus import BusClient
from core.codec.messages import QueryType
from core.control.client import ControlClient
from tests.desk import PROFILES, desk_fixture
from tests.tui.live import live_app, notices, press, reason_dialog, run, table, until
from tui import commands as cmd
from tui import fmt
from tui.screens.confirm import ConfirmScreen
from tui.screens.ticket import OrderTicketScreen
from tui.widgets.blotter import OrdersPane

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("core.daemons.oms") is None, reason="the oms daemon is not built yet"
)

oms_desk = desk_fixture(PROFILES / "oms.toml")
BTC = 1
QUERY_TIMEOUT_S = 30.0  # a hang guard for the oms's answer


class Oms:
    """Asks the oms itself (a client of its own, not the TUI) what it holds."""

    def __init__(self, bus: BusClient) -> None:
        self.client = ControlClient(bus, tool="test")

    def query(self, what: QueryType) -> list:
        return self.client.query(what, QUERY_TIMEOUT_S)

    def position(self, instrument_id: int) -> int:
        return oms_position(self, instrument_id)

    def working(self) -> set[int]:
        return {o.orderId for page in self.query(QueryType.Orders) for o in page.orders}

    def kill_engaged(self) -> bool:
        return bool(self.query(QueryType.Risk)[0].killEngaged)


async def until_oms(pilot, probe, what: str):
    """Like `until`, but asks the oms at most twice a second (each question is a bus round trip)."""
    deadline = time.monotonic() + 90
    while not (value := probe()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.5)
    return value


def oms_position(oms: Oms, instrument_id: int) -> int:
    """The desk's (account) net position in the instrument, as the oms has it.

    Manual orders belong to strategy 0 here, so the oms answers two rows with strategyId 0 (the
    account's and the manual book's); with no strategy trading on this desk they must agree.
    """
    rows = [p for page in oms.query(QueryType.Positions) for p in page.positions]
    nets = {p.netQty for p in rows if p.instrumentId == instrument_id and p.strategyId == 0}
    assert len(nets) <= 1, f"account and manual positions disagree: {nets}"
    return nets.pop() if nets else 0


def outcome_of(app, label_part: str, *outcomes: cmd.Outcome) -> list[cmd.ActionOutcome]:
    return [o for o in app.outcomes if label_part in o.label and o.outcome in outcomes]


async def send_ticket(pilot, app, qty: str, price: str) -> None:
    await press(pilot, "o")
    ticket = await until(
        pilot, lambda: isinstance(s := app.screen, OrderTicketScreen) and s.query("#price") and s, "ticket"
    )
    # The fields are filled directly (typing into them is tested on a recorded desk, test_app.py).
    ticket.query_one("#qty").value = qty
    ticket.query_one("#price").value = price
    await press(pilot, "ctrl+s")
    await until(pilot, lambda: app.screen is app.desk_screen, "the ticket to close")


def test_manual_orders_cancel_fill_and_flatten_through_the_oms(oms_desk) -> None:
    async def scenario() -> None:
        app = live_app(oms_desk.instance)
        oms = Oms(oms_desk.bus())
        async with app.run_test(size=(120, 40)) as pilot:
            view = await until(
                pilot,
                lambda: (v := app.last_view) and BTC in v.books and v.books[BTC].synced and v,
                "a BTC book",
            )
            await until(pilot, lambda: app.last_view.kill.engaged is False, "the kill state from the oms")
            inst = app.catalog.by_id(BTC)
            book = view.books[BTC]

            # 1. a resting buy 0.5 % under the bid: working in the oms, shown, then cancelled from the blotter
            rest_px = (book.bids[0].price * 995 // 1000) // inst.tick_size * inst.tick_size
            await send_ticket(pilot, app, "0.002", fmt.price(inst, rest_px))
            accepted = await until(
                pilot,
                lambda: outcome_of(app, "buy 0.0020", cmd.Outcome.ACCEPTED),
                "the oms to accept the order",
            )
            order_id = int(accepted[0].text.split()[1])
            assert order_id in oms.working()
            await until(
                pilot, lambda: f"o{order_id}" in table(app, "orders-table"), "the order in the blotter"
            )
            await press(pilot, "2")
            orders = app.desk_screen.query_one(OrdersPane)
            keys = orders.table.row_keys
            orders.table.move_cursor(row=keys.index(f"o{order_id}"))
            await press(pilot, "c")
            await until(
                pilot,
                lambda: outcome_of(app, f"cancel order {order_id}", cmd.Outcome.DONE, cmd.Outcome.ACCEPTED),
                "the cancel's answer",
            )
            await until(pilot, lambda: f"o{order_id}" not in table(app, "orders-table"), "the order to go")
            assert order_id not in oms.working()

            # 2. a marketable buy: it fills, and the desk's position shows in the positions pane
            ask = app.last_view.books[BTC].asks[0].price
            take_px = (ask * 1005 // 1000) // inst.tick_size * inst.tick_size
            await send_ticket(pilot, app, "0.01", fmt.price(inst, take_px))
            await until_oms(pilot, lambda: oms.position(BTC) > 0, "the oms to book the fill")
            await until(pilot, lambda: table(app, "fills-table"), "the fill in the blotter")
            row = await until(pilot, lambda: table(app, "positions-table").get("d1:1"), "the desk position")
            assert row[2] == fmt.qty(inst, oms.position(BTC))

            # 3. flatten the selected instrument: confirmation, then the oms works it flat
            await press(pilot, "f")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the flatten confirmation")
            await press(pilot, "y")
            await until(
                pilot, lambda: outcome_of(app, "flatten BTC-USD", cmd.Outcome.DONE), "the flatten done"
            )
            assert oms.position(BTC) == 0
            await until(
                pilot,
                lambda: (r := table(app, "positions-table").get("d1:1")) is None or r[2] == fmt.qty(inst, 0),
                "the TUI to show the desk flat",
            )

    run(scenario)


def test_the_kill_key_engages_the_kill_switch_in_the_oms_and_release_needs_a_reason(oms_desk) -> None:
    async def scenario() -> None:
        app = live_app(oms_desk.instance)
        oms = Oms(oms_desk.bus())
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.last_view and app.last_view.kill.engaged is False, "kill off")
            await press(pilot, "k")
            await reason_dialog(pilot, "the kill confirmation")
            await press(pilot, "enter")
            await until(
                pilot,
                lambda: outcome_of(app, "engage kill", cmd.Outcome.DONE, cmd.Outcome.IN_PROGRESS),
                "the oms's answer",
            )
            assert oms.kill_engaged(), "the oms does not have the kill switch engaged"
            await until(pilot, lambda: app.last_view.kill.engaged is True, "the TUI to show the kill")
            assert "KILL ENGAGED" in str(app.desk_screen.query_one("#status").render())
            assert "KILL SWITCH ENGAGED" in str(app.desk_screen.query_one("#banner").render())

            # release: a reason is required (an empty one is refused inline), then a confirmation
            await press(pilot, "K")
            dialog = await reason_dialog(pilot, "the release dialog")
            await press(pilot, "enter")
            refusal = dialog.query_one("#reason-error", Static)
            await until(pilot, lambda: "a reason is required" in str(refusal.render()), "the refusal")
            assert app.screen is dialog, "released without a reason"
            await press(pilot, *"all clear")
            typed = dialog.query_one("#reason", Input)
            await until(pilot, lambda: typed.value == "all clear", "the reason typed")
            await press(pilot, "enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the release confirmation")
            await press(pilot, "y")
            await until(pilot, lambda: outcome_of(app, "release", cmd.Outcome.DONE), "the release answer")
            assert not oms.kill_engaged()
            await until(pilot, lambda: app.last_view.kill.engaged is False, "the TUI to show it released")

    run(scenario)


def test_a_tui_dropped_from_the_state_stream_resyncs_from_the_oms(oms_desk) -> None:
    """Frozen while a fast publisher fills the state stream, the TUI is dropped (the oms and the recorder
    go on), rejoins, says so, and asks the oms for fresh orders, positions and risk."""

    async def scenario() -> None:
        from core.codec.messages import FeedState, FeedStatus

        app = live_app(oms_desk.instance)
        bus = oms_desk.bus()
        flood = bus.publisher("state")
        big = FeedState.encode_bytes(  # a message the TUI's state handler ignores, as large as allowed
            instrumentId=0,
            ts=0,
            status=FeedStatus.Ok,
            expectedSeq=0,
            receivedSeq=0,
            gapCount=0,
            text="x" * 4000,
        )
        async with app.run_test(size=(80, 24)) as pilot:
            await until(
                pilot, lambda: any("loaded orders" in t for t in notices(app)), "the initial snapshots"
            )
            await until(pilot, lambda: flood.is_connected, "the flood publication")
            app.link.freeze(4.0)
            sent, deadline = 0, time.monotonic() + 60
            while sent < 1000 and time.monotonic() < deadline:  # 4 MB: beyond the state stream's window
                if flood.offer(big):
                    sent += 1
            assert sent == 1000, "the publisher was held back by a frozen untethered observer"
            await until(pilot, lambda: any("lost the state stream" in t for t in notices(app)), "the drop")
            await until(pilot, lambda: any("resynced orders" in t for t in notices(app)), "the resync")
            assert app.last_view.kill.engaged is False and app.last_view.link.resyncing == ""

    run(scenario)
