"""The kill switch end to end: a real desk (driver, supervisor, recorder, oms, sim venue, synthetic market),
driven through the CLI. `kill` leaves no working order, new orders are refused with the kill-switch
reason while reducing IOC orders pass, and the switch stays engaged across a kill -9 of the oms and a
`down` / `up` of the desk, until `release` with a reason."""

from __future__ import annotations

import signal
from typing import Any

from tests.desk import PROFILES, Desk, desk_fixture
from tests.e2e.cli import DeskCli

desk = desk_fixture(PROFILES / "oms.toml")

ETH_FAR_BIDS = ("2400", "2410", "2420", "2430", "2440")  # ~20 % under the market: they rest
BTC_FAR_BID = "59500"


def _oms_running_again(desk: Desk, old_pid: int) -> dict[str, Any] | None:
    d = desk.daemon("oms")
    return d if d["pid"] not in (0, old_pid) and d["state"] == "running" else None


def test_kill_cancels_every_working_order_and_refuses_new_ones(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    bought = cli.new("BTC-USD", "buy", "0.02", "--type", "market", "--tif", "ioc")
    assert bought["exit"] == 0 and bought["status"] == "filled", bought
    placed = [cli.new("ETH-USD", "buy", "0.5", "--price", p) for p in ETH_FAR_BIDS]
    placed.append(cli.new("BTC-USD", "buy", "0.01", "--price", BTC_FAR_BID))
    assert all(o["exit"] == 0 and o["status"] == "new" for o in placed), placed
    working = {o["order_id"] for o in cli.orders()}
    assert {o["order_id"] for o in placed} <= working

    run = cli.ok("kill", "--reason", "e2e kill")
    assert "no working order left" in run.stdout
    assert "working orders to cancel" in run.stderr  # the oms's progress, on stderr
    assert cli.orders() == []

    risk = cli.risk()
    kill = risk["kill_switch"]
    assert kill["engaged"] is True and kill["reason"] == "e2e kill"
    assert kill["by"] is not None and "(cli)" in kill["by"] and kill["since"] > 0
    types = [e["type"] for e in risk["events"]]
    assert "kill-engaged" in types and "all-orders-canceled" in types

    refused = cli.new("ETH-USD", "buy", "0.5", "--price", "2400")
    assert refused["exit"] == 1 and refused["status"] == "rejected" and refused["reason"] == "KillSwitch"
    assert "KillSwitch" in refused["stderr"]  # the oms's reason, printed
    # a reducing order passes only as IOC
    resting = cli.new("BTC-USD", "sell", "0.01", "--price", "60500")
    assert resting["exit"] == 1 and resting["reason"] == "KillSwitch"
    reducing = cli.new("BTC-USD", "sell", "0.01", "--type", "market", "--tif", "ioc")
    assert reducing["exit"] == 0 and reducing["status"] == "filled", reducing
    growing = cli.new("BTC-USD", "buy", "0.01", "--type", "market", "--tif", "ioc")
    assert growing["exit"] == 1 and growing["reason"] == "KillSwitch"
    account = {p["instrument"]: p["qty"] for p in cli.positions()["accounts"]}
    assert account["BTC-USD"] == "0.01"


def test_release_needs_a_reason(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    missing = cli("release")
    assert missing.code == 2 and "--reason" in missing.stderr
    blank = cli("release", "--reason", "   ")
    assert blank.code == 2
    assert cli.risk()["kill_switch"]["engaged"] is True  # nothing was sent


def test_kill_switch_survives_a_kill_9_of_the_oms(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    assert cli.risk()["kill_switch"]["engaged"] is True
    old = desk.kill("oms", signal.SIGKILL)
    desk.wait_for(lambda: _oms_running_again(desk, old), "the supervisor to restart the oms")
    risk = desk.wait_for(lambda: _answering_risk(cli), "the restarted oms to answer")
    assert risk["kill_switch"]["engaged"] is True and risk["kill_switch"]["reason"] == "e2e kill"
    refused = cli.new("ETH-USD", "buy", "0.5", "--price", "2400")
    assert refused["exit"] == 1 and refused["reason"] == "KillSwitch"
    assert "kill switch ENGAGED (e2e kill)" in desk.log("oms")  # rebuilt from the WAL at start


def test_kill_switch_survives_down_and_up(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    assert desk.down().code == 0
    assert cli("risk").code == 3  # the desk is down
    desk.start()
    risk = desk.wait_for(lambda: _answering_risk(cli), "the oms of the restarted desk to answer")
    assert risk["kill_switch"]["engaged"] is True and risk["kill_switch"]["reason"] == "e2e kill"
    assert cli.orders() == []
    # and only an explicit release clears it
    run = cli.ok("release", "--reason", "e2e: checks done")
    assert "released" in run.stdout
    assert cli.risk()["kill_switch"]["engaged"] is False
    again = cli.new("ETH-USD", "buy", "0.5", "--price", "2400")
    assert again["exit"] == 0 and again["status"] == "new"
    assert cli.ok("cancel-all").code == 0 and cli.orders() == []


def _answering_risk(cli: DeskCli) -> dict[str, Any] | None:
    run = cli("risk", "--json", "--timeout", "2")
    return run.json() if run.code == 0 else None
