"""Pilot tests of the TUI against a real running desk: the real media driver, md and exec daemons
started by the supervisor (tests/desk.py), the TUI attached over the bus like any observer.

Until the oms daemon exists, the oms's side of a conversation (a ControlAck, a fill) is published by
the test itself on the state stream with a BusClient; the oms-backed tests are in test_live_oms.py.
"""

from __future__ import annotations

import time

import pytest

from core.codec.messages import (
    AccountState,
    AckStatus,
    BookSnapshot,
    BoolFlag,
    ControlAck,
    ExecType,
    KillAction,
    KillSwitch,
    OrdStatus,
    Reason,
    Side,
)
from tests.desk import PROFILES, desk_fixture
from tests.tui.live import (
    StreamObserver,
    live_app,
    notices,
    press,
    reason_dialog,
    run,
    table,
    tui_config,
    until,
)
from tests.tui.recorded import d64, execution_report, position
from tui import commands as cmd
from tui.model.staleness import DeskStatus
from tui.widgets.ladder import LadderPane

md_exec_desk = desk_fixture(PROFILES / "md_exec.toml")

BTC = 1


def offer(pub, payload: bytes, what: str) -> None:
    deadline = time.monotonic() + 30
    while not pub.offer(payload):
        if time.monotonic() > deadline:
            pytest.fail(f"could not publish {what}")
        time.sleep(0.01)


def test_books_update_live_from_the_md(md_exec_desk) -> None:
    async def scenario() -> None:
        app = live_app(md_exec_desk.instance)
        async with app.run_test(size=(120, 40)) as pilot:
            view = await until(
                pilot,
                lambda: (v := app.last_view) and BTC in v.books and v.books[BTC].synced and v,
                "a BTC book",
            )
            assert view.link.status in (DeskStatus.LIVE, DeskStatus.CONNECTING)
            first = dict(table(app, "ladder-table"))
            book = view.books[BTC]
            # the ladder shows the book's best levels, exactly at the instrument's exponent
            assert first["b0"][2] == f"{book.bids[0].price // 100}.{book.bids[0].price % 100:02d}"
            assert first["a0"][2] == f"{book.asks[0].price // 100}.{book.asks[0].price % 100:02d}"
            seq = book.seq
            await until(
                pilot,
                lambda: app.last_view.books[BTC].seq > seq and table(app, "ladder-table") != first,
                "the ladder to move with new market data",
            )
            daemons = await until(
                pilot, lambda: {d.role for d in app.last_view.daemons} >= {"md", "exec-sim"}, ""
            )
            assert daemons
            assert app.last_view.link.status == DeskStatus.LIVE
            # the health pane shows both daemons with their heartbeat age
            rows = table(app, "daemons-table")
            assert {"dmd", "dexec-sim"} <= set(rows)

    run(scenario)


def test_a_fill_from_the_oms_shows_in_fills_and_positions(md_exec_desk) -> None:
    async def scenario() -> None:
        app = live_app(md_exec_desk.instance)
        bus = md_exec_desk.bus()
        state = bus.publisher("state")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: state.is_connected, "the TUI to subscribe to the state stream")
            fill = execution_report(
                order_id=77,
                strategy_id=1,
                iid=BTC,
                side=Side.Buy,
                price=6000000,
                qty=500,
                status=OrdStatus.Filled,
                exec_type=ExecType.Trade,
                cum=500,
                last_px=6000000,
                last_qty=500,
                ts=time.time_ns(),
                seq=1,
                avg=d64(6000000, -2),
                fee=d64(15, -1),
            )
            offer(state, fill, "the fill")
            offer(
                state,
                position(1, BTC, 500, d64(6000000, -2), d64(0), d64(25, -1), 6000050, time.time_ns(), 2),
                "the position",
            )
            offer(
                state,
                AccountState.encode_bytes(
                    accountId=1,
                    ts=time.time_ns(),
                    realizedPnl=d64(-15, -1),
                    unrealizedPnl=d64(25, -1),
                    dailyPnl=d64(1),
                    grossExposure=d64(3000025, -3),
                    netExposure=d64(3000025, -3),
                    openOrders=0,
                    killEngaged=BoolFlag(0),
                    seq=3,
                ),
                "the account state",
            )
            fills = await until(pilot, lambda: table(app, "fills-table"), "the fill on screen")
            (row,) = fills.values()
            assert row[1:5] == ("BTC-USD", "BUY", "60000.00", "0.0500")
            positions = await until(pilot, lambda: table(app, "positions-table").get("p1:1"), "the position")
            assert positions[2] == "0.0500" and positions[3] == "+2.50"
            assert "Desk" in str(app.desk_screen.query_one("#positions-total").render())

    run(scenario)


def test_the_kill_key_sends_a_kill_switch_and_shows_the_refusal(md_exec_desk) -> None:
    async def scenario() -> None:
        app = live_app(md_exec_desk.instance)
        bus = md_exec_desk.bus()
        control = StreamObserver(bus, "control")
        state = bus.publisher("state")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.last_view and app.last_view.link.connected, "the TUI to connect")
            await until(pilot, lambda: control.sub.is_connected, "the TUI's control publication")
            await press(pilot, "k")
            await reason_dialog(pilot, "the kill confirmation")
            await press(pilot, "enter")
            kill = await until(
                pilot,
                lambda: [m for m in control.of(KillSwitch) if m.clientId == app.link.client_id],
                "the KillSwitch on the control stream",
            )
            (m,) = kill
            assert m.action == KillAction.Engage and m.operator.tool == "tui" and m.reason
            # the oms's answer (the oms daemon is not part of this desk): a refusal with its reason
            offer(
                state,
                ControlAck.encode_bytes(
                    correlationId=m.correlationId,
                    clientId=m.clientId,
                    status=AckStatus.Refused,
                    reason=Reason.Operator,
                    ts=time.time_ns(),
                    text="kill refused by the test",
                ),
                "the ack",
            )
            outcome = await until(
                pilot, lambda: [o for o in app.outcomes if o.outcome == cmd.Outcome.REFUSED], "the refusal"
            )
            assert (
                "kill refused by the test" in outcome[0].text and outcome[0].correlation_id == m.correlationId
            )
            assert "refused" in str(app.desk_screen.query_one("#outcome").render())

    run(scenario)


def test_an_unanswered_action_is_reported_as_such(md_exec_desk) -> None:
    async def scenario() -> None:
        app = live_app(md_exec_desk.instance, config=tui_config(action_timeout_ms=1000))
        bus = md_exec_desk.bus()
        control = StreamObserver(bus, "control")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: control.sub.is_connected, "the TUI's control publication")
            await press(pilot, "C")  # cancel all: a confirmation first
            await press(pilot, "y")
            await until(
                pilot,
                lambda: [
                    m for m in control.poll() if m.TEMPLATE_ID == 62 and m.clientId == app.link.client_id
                ],
                "the CancelAll",
            )
            await until(
                pilot, lambda: [o for o in app.outcomes if o.outcome == cmd.Outcome.UNANSWERED], "no answer"
            )

    run(scenario)


def test_read_only_hides_and_refuses_every_action(md_exec_desk) -> None:
    async def scenario() -> None:
        app = live_app(md_exec_desk.instance, read_only=True)
        bus = md_exec_desk.bus()
        control = StreamObserver(bus, "control")
        orders = StreamObserver(bus, "order_requests")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.last_view and app.last_view.link.connected, "the TUI to connect")
            shown = {b.binding.action for b in app.screen.active_bindings.values()}
            assert "kill" not in shown and "flatten_all" not in shown and "order_ticket" not in shown
            assert "pick_instrument" in shown  # watching is still possible
            for key in ("k", "K", "f", "F", "C", "o"):
                await press(pilot, key)
                await pilot.pause(0.05)
                assert app.screen is app.desk_screen, f"{key!r} opened a dialog in a read-only session"
            refused = [o for o in app.outcomes if o.outcome == cmd.Outcome.FAILED and "read-only" in o.text]
            assert len(refused) == 6
            with pytest.raises(cmd.ReadOnlyRefused):
                app.link.submit(cmd.EngageKill("sneaky"))
            app.submit(cmd.Flatten(0))  # the app's own path refuses too
            await pilot.pause(0.5)
            ours = [m for m in control.poll() if m.clientId == app.link.client_id]
            assert ours and {m.TEMPLATE_ID for m in ours} == {64}, "a read-only TUI sent more than queries"
            assert [m for m in orders.poll() if m.clientId == app.link.client_id] == []

    run(scenario)


def test_a_dropped_tui_rejoins_and_says_so(md_exec_desk) -> None:
    """Frozen long enough for a fast publisher to leave it a window behind, the untethered TUI is dropped
    by the driver (the publisher goes on: it never waits for an observer), rejoins, says so, and its
    books resync from the md's next snapshots."""

    async def scenario() -> None:
        app = live_app(md_exec_desk.instance)
        bus = md_exec_desk.bus()
        flood = bus.publisher("market_data")
        big = BookSnapshot.encode_bytes(
            instrumentId=999,
            seq=1,
            venueSeq=0,
            exchangeTs=0,
            receiveTs=0,
            publishTs=0,
            bids=[(1000 - i, 1, 1) for i in range(2000)],
            asks=[(2000 + i, 1, 1) for i in range(2000)],
        )
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: (v := app.last_view) and BTC in v.books and v.books[BTC].synced, "BTC")
            await until(pilot, lambda: flood.is_connected, "the flood publication")
            app.link.freeze(4.0)
            # 400 x 80 KB: far beyond the 1 MiB window. The guard is generous because tethered
            # subscribers (the recorder) may pace the publisher on a loaded machine; the TUI must not.
            sent, deadline = 0, time.monotonic() + 120
            while sent < 400 and time.monotonic() < deadline:
                if flood.offer(big):
                    sent += 1
            assert sent == 400, "the publisher was held back for 2 minutes"
            await until(
                pilot, lambda: any("lost the market data" in t for t in notices(app)), "the drop notice"
            )
            await until(
                pilot, lambda: any("rejoined the market data" in t for t in notices(app)), "the rejoin"
            )
            await until(pilot, lambda: app.last_view.books[BTC].synced, "the BTC book to resync")
            assert app.last_view.link.rejoins >= 1

    run(scenario)


def test_the_ladder_marks_a_stale_book_and_a_stopped_desk(tmp_path) -> None:
    from tests.desk import running_desk

    async def scenario() -> None:
        with running_desk(PROFILES / "md_exec.toml", tmp_path) as desk:
            app = live_app(desk.instance, config=tui_config(stale_after_ms=1000, book_stale_after_ms=1500))
            async with app.run_test(size=(80, 24)) as pilot:
                await until(
                    pilot, lambda: app.last_view and app.last_view.link.status == DeskStatus.LIVE, "LIVE"
                )
                banner = app.desk_screen.query_one("#banner")
                assert "NOT live" not in str(banner.render())  # (it says it waits for the oms: none here)
                desk.down()
                await until(
                    pilot,
                    lambda: app.last_view.link.status in (DeskStatus.STALE, DeskStatus.DOWN),
                    "the desk to be marked stale",
                )
                banner = app.desk_screen.query_one("#banner")
                await until(
                    pilot, lambda: banner.display and "NOT live" in str(banner.render()), "the banner"
                )
                ladder = app.desk_screen.query_one(LadderPane)
                await until(pilot, lambda: ladder.has_class("-stale"), "the ladder marked stale")

    run(scenario)


@pytest.mark.slow
def test_the_tui_reconnects_when_the_desk_comes_back(tmp_path) -> None:
    from tests.desk import running_desk

    async def scenario() -> None:
        with running_desk(PROFILES / "md_exec.toml", tmp_path) as desk:
            app = live_app(desk.instance, config=tui_config(stale_after_ms=1000))
            async with app.run_test(size=(80, 24)) as pilot:
                await until(
                    pilot, lambda: app.last_view and app.last_view.link.status == DeskStatus.LIVE, "LIVE"
                )
                desk.down()
                await until(
                    pilot, lambda: app.last_view.link.status == DeskStatus.DOWN, "the desk marked DOWN"
                )
                desk.start()
                await until(
                    pilot,
                    lambda: (
                        app.last_view.link.status == DeskStatus.LIVE
                        and any("reconnected" in t for t in notices(app))
                    ),
                    "the TUI to reconnect",
                )
                await until(pilot, lambda: (b := app.last_view.books.get(BTC)) and b.synced, "the book again")

    run(scenario)
