"""The strategies live on a desk of real processes (tests/profiles/strategies.toml: synthetic market with
the venues' common factor, simulated venue, oms, and the strategy daemon running both market makers and
the pairs trader): their orders reach the oms and the venue, fills make positions, the pairs trader
trades both legs, a killed strategy daemon's orders are cancelled by the oms's dead-man, and a restarted
one gets its positions back from the oms."""

from __future__ import annotations

import time
from typing import Any

from core.codec.messages import OrdStatus, QueryType, RiskEventType
from core.control.client import ControlClient
from core.supervisor.monitor import HeartbeatInfo, HeartbeatMonitor
from tests.core.daemons.busio import Collector
from tests.desk import PROFILES, Desk, desk_fixture

MM_BTC, PAIRS, MM_ETH = 1, 2, 3
OURS = {MM_BTC, PAIRS, MM_ETH}
BTC, ETH = 1, 2
WORKING = (OrdStatus.New, OrdStatus.PartiallyFilled, OrdStatus.PendingCancel, OrdStatus.PendingReplace)
PAIRS_BOUND_S = 60.0  # the pairs trader's first round trip must come within this (it needs about 10 s)

desk = desk_fixture(PROFILES / "strategies.toml")


def control(desk: Desk) -> ControlClient:
    client = ControlClient(desk.bus(), "pytest")
    client.wait_ready(60)
    return client


def orders(client: ControlClient) -> list[Any]:
    return [r for page in client.query(QueryType.Orders, 10) for r in page.orders]


def positions(client: ControlClient) -> list[Any]:
    return [r for page in client.query(QueryType.Positions, 10) for r in page.positions]


def watch(desk: Desk, window_s: float = 1.0) -> tuple[dict[str, HeartbeatInfo], dict[int, HeartbeatInfo]]:
    """The latest daemon and per-strategy heartbeats heard within window_s."""
    bus = desk.bus()
    monitor = HeartbeatMonitor(bus)
    deadline = time.monotonic() + window_s
    while time.monotonic() < deadline:
        if not bus.do_work() + monitor.poll():
            time.sleep(0.005)
    return monitor.latest, {sid: hb for (_role, sid), hb in monitor.strategies.items()}


def test_market_maker_orders_reach_the_venue_and_fills_make_positions(desk: Desk) -> None:
    client = control(desk)
    acked = desk.wait_for(
        lambda: [o for o in orders(client) if o.strategyId == MM_BTC and o.ordStatus in WORKING],
        "a working order of the BTC market maker",
    )
    assert all(o.instrumentId == BTC and o.price > 0 for o in acked)
    held = desk.wait_for(
        lambda: [p for p in positions(client) if p.strategyId == MM_BTC and p.netQty],
        "a position of the BTC market maker",
    )
    assert held[0].instrumentId == BTC

    def caught_up() -> tuple[dict[str, HeartbeatInfo], dict[int, HeartbeatInfo]] | None:
        # the oms books a fill before the strategies daemon reads its report, and its heartbeats say
        # so later still: under load, more than one watch window later
        daemons, strategies = watch(desk)
        mine, own = daemons.get("strategies"), strategies.get(MM_BTC)
        counted = mine is not None and own is not None and own.counters["fills"] > 0
        return (daemons, strategies) if counted and {MM_BTC, PAIRS, MM_ETH} <= strategies.keys() else None

    daemons, strategies = desk.wait_for(caught_up, "the strategies' heartbeats to count the fills")
    venue = daemons["exec-sim"].counters
    assert venue["exec-sim.acks"] > 0 and venue["exec-sim.fills"] > 0
    mine = daemons["strategies"].counters
    assert mine["strategies.running"] == 3 and mine["strategies.errors"] == 0
    assert mine["strategies.orders_sent"] > 0 and mine["strategies.fills"] > 0
    assert mine["strategies.callbacks"] > mine["strategies.orders_sent"]
    for sid, name in ((MM_BTC, "demo-mm"), (PAIRS, "btc-eth-pairs"), (MM_ETH, "eth-mm")):
        beat = strategies[sid]
        assert (beat.role, beat.state, beat.pid) == (f"strategy:{name}", "Running", desk.pid("strategies"))
    assert strategies[MM_BTC].counters["fills"] > 0


def test_the_pairs_trader_trades_both_legs_on_the_correlated_market(desk: Desk) -> None:
    client = control(desk)
    legs = desk.wait_for(
        lambda: {p.instrumentId for p in positions(client) if p.strategyId == PAIRS} >= {BTC, ETH},
        "the pairs trader to trade both legs",
        timeout=PAIRS_BOUND_S,
    )
    assert legs

    def counted() -> dict[str, int] | None:
        # the oms books a fill before the strategy reads its report: under load its heartbeat can
        # trail the positions by more than one watch window, so wait for it to count the fills
        hb = watch(desk)[1].get(PAIRS)
        return hb.counters if hb is not None and hb.counters["fills"] >= 2 else None

    pairs = desk.wait_for(counted, "the pairs trader's heartbeat to count its fills")
    assert pairs["fills"] >= 2 and pairs["orders"] >= 2 and pairs["errors"] == 0


def test_a_killed_daemon_is_cancelled_by_the_dead_man_and_a_restart_gets_its_positions_back(
    desk: Desk,
) -> None:
    client = control(desk)
    desk.wait_for(
        lambda: [o for o in orders(client) if o.strategyId == MM_BTC and o.ordStatus in WORKING],
        "a working order of the BTC market maker",
    )
    events = Collector(desk.bus(), "state", tether=False)
    old = desk.kill("strategies")

    def dead_man_fired() -> set[int]:
        events.sub.client.do_work()
        while events.sub.poll():
            pass
        fired = {
            e.strategyId for e in events.of("RiskEvent") if e.eventType == RiskEventType.DeadManTriggered
        }
        return fired if {MM_BTC, MM_ETH} <= fired else set()

    desk.wait_for(dead_man_fired, "the oms's dead-man for both market makers")
    desk.wait_for(
        lambda: not [o for o in orders(client) if o.strategyId in OURS and o.ordStatus in WORKING],
        "every working order of the killed strategies to be cancelled",
    )
    kept = [p for p in positions(client) if p.strategyId in OURS]
    assert kept, "the strategies traded before the kill"

    result = desk.cli("restart", "strategies")
    assert result.returncode == 0, result.stderr
    new = desk.pid("strategies")
    assert new != old
    counters = desk.wait_for(
        lambda: (
            (c := watch(desk, 0.5)[0].get("strategies")) is not None
            and c.pid == new
            and c.counters["strategies.phase"] == 2
            and c.counters
        ),
        "the restarted daemon to run",
    )
    assert counters["strategies.recovered_positions"] == len(kept)
    assert counters["strategies.recovered_orders"] == 0  # the dead-man had cancelled them all
    assert counters["strategies.recovery_timeouts"] == 0
    desk.wait_for(
        lambda: [o for o in orders(client) if o.strategyId == MM_BTC and o.ordStatus in WORKING],
        "the restarted market maker to quote again",
    )
