"""Tick-to-order telemetry: the exec gateway publishes a LatencySample on the heartbeats stream for every
venue NewOrder that carries a market-data trigger. Ordering and content, never speed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from core.codec.messages import LatencySample, Side
from core.supervisor.monitor import HeartbeatMonitor
from tests.core.daemons.busio import Collector, OrderSender, pump
from tests.desk import PROFILES, Desk, desk_fixture

md_exec = desk_fixture(PROFILES / "md_exec.toml")


def samples(stream: Collector) -> list[Any]:
    return [m for m in stream.messages if m.NAME == LatencySample.NAME]


def test_exec_publishes_a_sample_per_triggered_order_and_none_without_a_trigger(md_exec: Desk) -> None:
    bus = md_exec.bus()
    monitor = HeartbeatMonitor(bus)  # what `status` and the supervisor read the stream with
    heartbeats = Collector(bus, "heartbeats", tether=False)
    reports = Collector(bus, "venue_reports")
    sender = OrderSender(bus)
    sender.wait_connected()
    now = time.time_ns()
    sender.new(7001, 1, Side.Buy, 10, 1, triggerTs=0, sendTs=now)  # no trigger: no sample
    sender.new(7002, 1, Side.Buy, 10, 1, strategyId=5, clOrdId=99, triggerTs=now - 2_000, sendTs=now - 1_000)
    # the monitor is polled with the others: an IPC subscriber that lags would hold back where a new
    # one (the status observer below) joins the stream
    pump(
        bus,
        [heartbeats, reports, monitor],
        lambda: len({m.orderId for m in reports.of("ExecutionReport")} & {7001, 7002}) == 2,
        "both orders answered",
    )
    pump(bus, [heartbeats, monitor], lambda: bool(samples(heartbeats)), "a LatencySample")
    (sample,) = samples(heartbeats)
    assert (sample.strategyId, sample.clOrdId) == (5, 99)
    assert (sample.mdPublishTs, sample.strategySendTs, sample.omsAcceptTs) == (now - 2_000, now - 1_000, 0)
    assert sample.mdPublishTs <= sample.strategySendTs <= sample.venueAckTs == sample.ts
    assert sample.venueAckTs >= now  # stamped at its arrival at the exec gateway, after it was sent
    # the monitor joined first, so it has seen the sample once it has read as much as the collector
    pump(bus, [monitor], lambda: monitor.subscriber.counters.received >= len(heartbeats.messages), "monitor")
    assert monitor.subscriber.counters.bad_input() == 0  # telemetry is not reported as bad input
    counters = md_exec.heartbeats(1.0)["exec-sim"].counters
    assert counters["exec-sim.latency_samples"] == 1 and counters["exec-sim.latency_dropped"] == 0


# -- the whole path: md -> strategy host -> oms -> exec ------------------------------------------------
separate = desk_fixture(PROFILES / "latency_samples.toml")
hot_path = desk_fixture(PROFILES / "latency_hot_path.toml")
PROBE_ID = 90  # tests/profiles/latency_strategies.toml
HOT_PATH_ROLES = ("md", "strategies", "oms", "exec-sim")


def _matched_samples(desk: Desk, wanted: int) -> tuple[list[Any], dict[int, Any], set[int]]:
    """LatencySamples of the probe, with the NewOrder each came from and the md publish times seen."""
    bus = desk.bus()
    md = Collector(bus, "market_data", tether=False)
    orders = Collector(bus, "order_requests", tether=False)
    heartbeats = Collector(bus, "heartbeats", tether=False)
    publish_ts: set[int] = set()
    new_orders: dict[int, Any] = {}

    def matched() -> list[Any]:
        publish_ts.update(m.publishTs for m in md.messages if hasattr(m, "publishTs"))
        md.messages.clear()  # keep memory flat: only the times are needed
        new_orders.update((m.clOrdId, m) for m in orders.of("NewOrder") if m.strategyId == PROBE_ID)
        return [
            s
            for s in samples(heartbeats)
            if s.strategyId == PROBE_ID and s.clOrdId in new_orders and s.mdPublishTs in publish_ts
        ]

    pump(bus, [md, orders, heartbeats], lambda: len(matched()) >= wanted, f"{wanted} matched LatencySamples")
    return matched(), new_orders, publish_ts


@pytest.mark.parametrize("layout", ["separate", "hot_path"])
def test_samples_follow_an_order_from_the_md_tick_through_the_strategy_and_oms_to_exec(
    layout: str, request: pytest.FixtureRequest
) -> None:
    desk: Desk = request.getfixturevalue(layout)
    got, new_orders, _ = _matched_samples(desk, 5)
    for s in got:
        order = new_orders[s.clOrdId]
        # the strategy stamped the tick's publish time and its send time; the oms forwarded both as
        # they were, and exec stamped the arrival
        assert (order.triggerTs, order.sendTs) == (s.mdPublishTs, s.strategySendTs)
        assert 0 < s.mdPublishTs <= s.strategySendTs <= s.venueAckTs == s.ts
        assert s.omsAcceptTs == 0
    assert len({s.clOrdId for s in got}) == len(got)  # one sample per order


def test_the_hot_path_composite_runs_all_four_kinds_in_one_process(hot_path: Desk) -> None:
    beats: dict[str, Any] = {}
    hot_path.wait_for(
        lambda: beats.update(hot_path.heartbeats(0.5)) or set(HOT_PATH_ROLES) <= set(beats),
        "heartbeats of every member",
    )
    assert {beats[r].pid for r in (*HOT_PATH_ROLES, "hot-path")} == {hot_path.pid("hot-path")}
    assert beats["hot-path"].counters["members"] == 4
