"""The strategy daemon (core/daemons/strategy): its config; its agent on a real bus (a real media driver)
with the test playing the oms and the md daemon; and a desk of real processes (md, exec, oms and the
strategy daemon) where a killed strategy daemon is restarted and gets its orders and positions back.

The two test strategies below are loaded by the desk's strategy daemon by import path
(tests/profiles/strategies_fixtures.toml)."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.agent.clock import SystemClock
from core.bus import BusClient, instance_dir, spawn_driver
from core.codec.messages import (
    AckStatus,
    BookDelta,
    BookSnapshot,
    CancelOrder,
    ControlAck,
    FeedState,
    OrdersSnapshot,
    OrdStatus,
    OrdType,
    PositionsSnapshot,
    QueryType,
    Reason,
    Side,
    TimeInForce,
)
from core.config import ConfigError, Table
from core.control.client import ControlClient
from core.daemons.strategy import BusHostOutputs, StrategyAgent, parse_strategy_config
from core.daemons.strategy.agent import RECOVERING, RUNNING
from core.instruments import Instrument, load_instruments
from core.oms.queries import PAGE_SIZE
from core.strategy import HostConfig, HostIdentity, Strategy, StrategyHost, StrategyState, strategy_spec
from core.strategy.market import Market
from core.supervisor.monitor import HeartbeatInfo, HeartbeatMonitor
from tests.core.daemons.busio import Collector
from tests.desk import PROFILES, Desk, desk_fixture

CATALOG = load_instruments()
BTC, ETH, PERP = CATALOG.by_id(1), CATALOG.by_id(2), CATALOG.by_id(3)
CLIENT = 4242
SAFETY_TIMEOUT_S = 60.0  # a hang guard, never a performance limit
KEEPER_ID, FAULTY_ID = 11, 12


# == test strategies ================================================================================
@dataclass(frozen=True)
class KeeperParams:
    instrument: Instrument
    qty: Decimal
    rest_bps: int = 200


class Keeper(Strategy):
    """Once its book is usable: a resting buy rest_bps below the bid (it does not fill) and, while it holds
    no position, a marketable IOC buy. Orders it is given back at a restart are kept: it places nothing."""

    Params = KeeperParams
    params: KeeperParams

    def on_start(self) -> None:
        self.iid = self.params.instrument.id
        self.acted = False
        self.kept = 0

    def on_book(self, market: Market) -> None:
        if self.acted or not market.usable():
            return
        self.acted = True
        given_back = self.ctx.orders(self.iid)
        if given_back:
            self.kept = len(given_back)
            return
        inst = self.params.instrument
        qty = inst.qty_mantissa(self.params.qty)
        bid, ask = market.book.best_bid(), market.book.best_ask()
        assert bid is not None and ask is not None
        rest = bid[0] * (10_000 - self.params.rest_bps) // 10_000 // inst.tick_size * inst.tick_size
        self.ctx.submit(self.iid, Side.Buy, qty, rest, tag="rest")
        if not self.ctx.position(self.iid).net_qty:
            self.ctx.submit(
                self.iid, Side.Buy, qty, ask[0] + 10 * inst.tick_size, tif=TimeInForce.IOC, tag="take"
            )


@dataclass(frozen=True)
class FaultyParams:
    instrument: Instrument


class Faulty(Strategy):
    """Raises in its first book callback."""

    Params = FaultyParams

    def on_book(self, market: Market) -> None:
        raise RuntimeError("faulty on purpose")


def keeper_spec():
    return strategy_spec(
        "keeper", KEEPER_ID, Keeper, {"instrument": "ETH-USD", "qty": "0.05", "rest_bps": 200}, CATALOG
    )


# == config =========================================================================================
FIXTURES = PROFILES / "strategies_fixtures.toml"


def table(**data: Any) -> Table:
    return Table(data, PROFILES / "strategies_daemon.toml", "daemon.config")


def test_the_config_selects_strategies_from_the_named_file() -> None:
    everything = parse_strategy_config(table(strategies_file=FIXTURES.name), CATALOG)
    assert [s.name for s in everything.specs] == ["keeper", "faulty"]
    assert everything.strategies.host.client_id == 110 and everything.recovered_orders == "cancel"
    assert everything.md_tether is False
    one = parse_strategy_config(
        table(strategies_file=str(FIXTURES), strategies=["faulty"], client_id=7, recovered_orders="keep"),
        CATALOG,
    )
    assert [s.name for s in one.specs] == ["faulty"] and one.strategies.host.client_id == 7
    shipped = parse_strategy_config(table(strategies=["demo-mm", "btc-eth-pairs"]), CATALOG)
    assert [(s.name, s.strategy_id) for s in shipped.specs] == [("demo-mm", 1), ("btc-eth-pairs", 2)]


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        ({"strategies": ["nope"]}, "strategies", "no strategy named 'nope'"),
        ({"strategies": ["demo-mm", "demo-mm"]}, "strategies", "named twice"),
        ({"strategies": []}, "strategies", "non-empty list"),
        ({"strategies_file": "missing.toml"}, "strategies_file", "no such file"),
        ({"recovered_orders": "adopt"}, "recovered_orders", "must be one of cancel, keep"),
        ({"client_id": 0}, "client_id", "must be in 1.."),
        ({"recover_timeout_ms": -1}, "recover_timeout_ms", "must be from 0"),
        ({"tether": True}, "tether", "unknown key"),
    ],
)
def test_a_bad_config_names_its_key(data: dict, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_strategy_config(table(**data), CATALOG)
    assert err.value.key == f"daemon.config.{key}" and reason in err.value.reason


def test_a_disabled_strategy_is_not_run_silently(tmp_path: Path) -> None:
    text = FIXTURES.read_text().replace(
        "[strategies.faulty]\nid = 12\n", "[strategies.faulty]\nid = 12\nenabled = false\n"
    )
    path = tmp_path / "strategies.toml"
    path.write_text(text)
    assert [s.name for s in parse_strategy_config(table(strategies_file=str(path)), CATALOG).specs] == [
        "keeper"
    ]
    with pytest.raises(ConfigError) as err:
        parse_strategy_config(table(strategies_file=str(path), strategies=["faulty"]), CATALOG)
    assert "disabled" in err.value.reason


# == the agent on a real bus =========================================================================
@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"test-strat-{uuid.uuid4().hex[:8]}"
    driver = spawn_driver(name, log_path=tmp_path_factory.mktemp("driver") / "driver.log")
    try:
        yield name
    finally:
        driver.stop()
        shutil.rmtree(instance_dir(name), ignore_errors=True)


class Rig:
    """The agent in this process, and the test as its oms (order requests, control, state, heartbeats)
    and its md daemon (market data). `oms=False`: nothing subscribes to order requests or control."""

    def __init__(self, instance: str, specs: list, *, oms: bool = True, **agent_kw: Any) -> None:
        self.clock = SystemClock()
        self.bus = BusClient(instance, role_name="strategies").connect()
        self.outputs = BusHostOutputs(
            self.bus.publisher("order_requests"), self.bus.publisher("heartbeats"), self.clock.time_ns
        )
        self.host = StrategyHost(
            specs,
            catalog=CATALOG,
            clock=self.clock,
            outputs=self.outputs,
            config=HostConfig(client_id=CLIENT, heartbeat_interval_ms=100),
            identity=HostIdentity.local(instance),
            venue_ids={"sim": 1},
        )
        self.agent = StrategyAgent("strategies", self.bus, self.clock, self.host, self.outputs, **agent_kw)
        self.test = BusClient(instance, role_name="test").connect()
        self.collectors = []
        if oms:
            self.requests = self._collect("order_requests")
            self.control = self._collect("control")
        self.heartbeats = self._collect("heartbeats", tether=False)
        self.state = self.test.publisher("state")
        self.md = self.test.publisher("market_data")
        self.agent.on_start()

    def _collect(self, stream: str, tether: bool = True) -> Collector:
        c = Collector(self.test, stream, tether=tether)
        self.collectors.append(c)
        return c

    def cycle(self) -> int:
        work = self.bus.do_work() + self.agent.do_work() + self.test.do_work()
        return work + sum(c.sub.poll() for c in self.collectors)

    def until(self, done: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + SAFETY_TIMEOUT_S
        while not (result := done()):
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            if not self.cycle():
                time.sleep(0.001)
        return result

    def cycles(self, n: int) -> None:
        for _ in range(n):
            self.cycle()
            time.sleep(0.001)

    def send(self, publisher: Any, frame: bytes, what: str) -> None:
        self.until(lambda: publisher.offer(frame) is True, f"{what} to be taken")

    def queries(self) -> dict[QueryType, Any]:
        self.until(lambda: len(self.control.of("Query")) >= 2, "the two recovery queries")
        return {q.queryType: q for q in self.control.of("Query")}

    def close(self) -> None:
        self.agent.on_close()
        self.bus.close()
        self.test.close()

    @property
    def ctx(self):
        return self.host.contexts[0]


@pytest.fixture
def rigs(instance: str) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(specs: list | None = None, **kw: Any) -> Rig:
        rig = Rig(instance, specs or [keeper_spec()], **kw)
        made.append(rig)
        return rig

    try:
        yield make
    finally:
        for rig in made:
            rig.close()


def orders_page(corr: int, rows: list[tuple]) -> bytes:
    return OrdersSnapshot.encode_bytes(correlationId=corr, clientId=CLIENT, ts=time.time_ns(), orders=rows)


def order_row(order_id: int, cl_ord_id: int, strategy_id: int) -> tuple:
    now = time.time_ns()
    return (
        order_id,
        cl_ord_id,
        strategy_id,
        ETH.id,
        1,
        Side.Buy,
        OrdType.Limit,
        TimeInForce.GTC,
        OrdStatus.New,
        290_000,
        50,
        0,
        50,
        now,
        now,
    )


def positions_page(corr: int, rows: list[tuple]) -> bytes:
    return PositionsSnapshot.encode_bytes(
        correlationId=corr, clientId=CLIENT, ts=time.time_ns(), positions=rows
    )


def position_row(strategy_id: int, net: int) -> tuple:
    return (1, strategy_id, ETH.id, net, (3000, 0), (0, 0), (0, 0), (0, 0), 300_000)


def eth_snapshot(seq: int, iid: int = ETH.id) -> bytes:
    now = time.time_ns()
    return BookSnapshot.encode_bytes(
        instrumentId=iid,
        seq=seq,
        venueSeq=seq,
        exchangeTs=now,
        receiveTs=now,
        publishTs=now,
        bids=[(299_950, 100, 1), (299_900, 100, 1)],
        asks=[(300_050, 100, 1), (300_100, 100, 1)],
    )


def eth_delta(seq: int, price: int = 299_950, qty: int = 120) -> bytes:
    now = time.time_ns()
    return BookDelta.encode_bytes(
        instrumentId=ETH.id,
        seq=seq,
        venueSeq=seq,
        exchangeTs=now,
        receiveTs=now,
        publishTs=now,
        levels=[(1, price, qty, 1)],
    )


def test_it_starts_only_once_the_oms_answered_every_page_and_keeps_what_it_gets_back(rigs) -> None:
    rig = rigs(recovered_orders="keep")
    q = rig.queries()
    assert {t: (m.clientId, m.operator.tool) for t, m in q.items()} == {
        QueryType.Orders: (CLIENT, "strategy"),
        QueryType.Positions: (CLIENT, "strategy"),
    }
    assert rig.agent.phase == RECOVERING and rig.ctx.state == StrategyState.CREATED
    # a full first page (one order of ours among others'): the answer is not complete yet
    page = [order_row(501, 9001, KEEPER_ID)] + [
        order_row(600 + i, 7000 + i, 99) for i in range(PAGE_SIZE - 1)
    ]
    rig.send(rig.state, orders_page(q[QueryType.Orders].correlationId, page), "the first orders page")
    rig.until(lambda: rig.agent.c["recovered_orders"] == 1, "the first page")
    rig.send(
        rig.state,
        positions_page(
            q[QueryType.Positions].correlationId, [position_row(KEEPER_ID, 40), position_row(0, 40)]
        ),
        "the positions",
    )
    rig.until(lambda: rig.agent.c["recovered_positions"] == 1, "the positions")
    rig.cycles(20)
    assert rig.agent.phase == RECOVERING  # the orders reply has one more page to come
    rig.send(rig.state, orders_page(q[QueryType.Orders].correlationId, []), "the last orders page")
    rig.until(lambda: rig.agent.phase == RUNNING, "the strategies to start")
    [order] = rig.ctx.orders()
    assert (order.order_id, order.cl_ord_id, order.external, order.leaves_qty) == (501, 9001, True, 50)
    assert rig.ctx.position(ETH.id).net_qty == 40
    rig.send(rig.md, eth_snapshot(1), "a book")
    keeper = rig.ctx.strategy
    rig.until(lambda: keeper.acted, "the keeper's first book")
    assert keeper.kept == 1
    rig.cycles(20)
    assert rig.requests.messages == []  # it keeps the order given back: nothing new, nothing cancelled
    beat = rig.until(
        lambda: [m for m in rig.heartbeats.of("Heartbeat") if m.strategyId == KEEPER_ID],
        "a strategy heartbeat",
    )[-1]
    counters = {c.name: c.value for c in beat.counters}
    assert beat.role == "strategy:keeper" and counters["working_orders"] == 1
    c = rig.agent.counters()
    assert (c["recovered_orders"], c["recovered_positions"], c["recovery_timeouts"], c["running"]) == (
        1,
        1,
        0,
        1,
    )


def test_orders_given_back_are_cancelled_when_so_configured(rigs) -> None:
    rig = rigs(recovered_orders="cancel")
    q = rig.queries()
    rig.send(
        rig.state, orders_page(q[QueryType.Orders].correlationId, [order_row(501, 9001, KEEPER_ID)]), "orders"
    )
    rig.send(rig.state, positions_page(q[QueryType.Positions].correlationId, []), "positions")
    rig.until(lambda: rig.agent.phase == RUNNING, "the strategies to start")
    [cancel] = rig.until(lambda: rig.requests.of("CancelOrder"), "the cancel of the order given back")
    assert isinstance(cancel, CancelOrder)
    assert (cancel.orderId, cancel.origClOrdId, cancel.strategyId, cancel.clientId) == (
        501,
        9001,
        KEEPER_ID,
        CLIENT,
    )
    assert rig.agent.c["recovered_canceled"] == 1


def test_a_refused_or_unanswered_query_delays_the_start_no_longer_than_the_timeout(rigs) -> None:
    rig = rigs(recover_timeout_ms=1500)  # the refusal must arrive first, even on a loaded machine
    q = rig.queries()
    refused = ControlAck.encode_bytes(
        correlationId=q[QueryType.Orders].correlationId,
        clientId=CLIENT,
        status=AckStatus.Refused,
        reason=Reason.Other,
        ts=time.time_ns(),
        text="not now",
    )
    rig.send(rig.state, refused, "the refusal")
    rig.until(lambda: rig.agent.phase == RUNNING, "the start after the timeout")
    assert (rig.agent.c["recovery_refused"], rig.agent.c["recovery_timeouts"]) == (1, 1)
    assert rig.ctx.state == StrategyState.RUNNING


def test_without_an_oms_requests_are_refused_to_the_strategy_at_once(rigs) -> None:
    rig = rigs(oms=False, connect_wait_ms=200)
    rig.until(lambda: rig.agent.phase == RUNNING, "the start without an oms")
    rig.send(rig.md, eth_snapshot(1), "a book")
    rig.until(lambda: rig.agent.counters()["rejects"] == 2, "both requests to come back refused")
    orders = rig.ctx.orders_book.finished()
    assert [o.tag for o in orders] == ["rest", "take"]
    assert all(o.status == OrdStatus.Rejected and "cannot be reached" in o.last_text for o in orders)
    assert rig.outputs.c["requests_refused"] == 2 and rig.outputs.c["requests_sent"] == 0
    assert rig.ctx.state == StrategyState.RUNNING  # refused, not failed


def test_a_market_data_gap_makes_the_book_unusable_until_the_next_snapshot(rigs) -> None:
    rig = rigs(recover_timeout_ms=100)
    rig.until(lambda: rig.agent.phase == RUNNING, "the start")
    market = rig.host.markets[ETH.id]
    rig.send(rig.md, eth_snapshot(1), "a snapshot")
    rig.send(rig.md, eth_delta(2), "a delta")
    rig.until(lambda: market.seq == 2, "the delta")
    assert market.usable() and rig.agent.counters()["md_gaps"] == 0
    rig.send(rig.md, eth_delta(4, qty=130), "a delta after a lost one")
    rig.until(lambda: market.seq == 4, "the delta after the gap")
    assert not market.usable() and rig.agent.counters()["md_gaps"] == 1
    rig.send(rig.md, eth_delta(5, qty=140), "a delta while unsynced")
    rig.until(lambda: market.seq == 5, "the next delta")
    assert not market.usable() and market.book.qty_at(1, 299_950) == 120  # neither delta applied
    rig.send(rig.md, eth_snapshot(6), "the md daemon's periodic snapshot")
    rig.until(lambda: market.usable(), "the book to be usable again")
    # a FeedState for the whole feed (instrument 0) unsyncs every book
    whole = FeedState.encode_bytes(
        instrumentId=0, ts=time.time_ns(), status=2, expectedSeq=0, receivedSeq=0, gapCount=1, text="feed gap"
    )
    rig.send(rig.md, whole, "a whole-feed gap")
    rig.until(lambda: not market.usable(), "the whole-feed gap")
    assert rig.agent.c["whole_feed_states"] == 1
    rig.send(rig.md, eth_snapshot(7), "a snapshot")
    rig.until(lambda: market.usable(), "the book again")
    # instruments no strategy trades are not even decoded
    before = rig.host.counters["md_messages"]
    rig.send(rig.md, eth_snapshot(1, iid=PERP.id), "another instrument's book")
    rig.until(lambda: rig.agent.c["md_other"] == 1, "the other instrument")
    assert rig.host.counters["md_messages"] == before


# == a desk of real processes ========================================================================
desk = desk_fixture(PROFILES / "strategies_daemon.toml")


def watch(desk: Desk, window_s: float = 1.0) -> tuple[dict[str, HeartbeatInfo], dict[int, HeartbeatInfo]]:
    """The latest daemon and per-strategy heartbeats heard within window_s."""
    bus = desk.bus()
    monitor = HeartbeatMonitor(bus)
    deadline = time.monotonic() + window_s
    while time.monotonic() < deadline:
        if not bus.do_work() + monitor.poll():
            time.sleep(0.005)
    return monitor.latest, {sid: hb for (_role, sid), hb in monitor.strategies.items()}


def oms_view(client: ControlClient) -> tuple[list, list]:
    orders = [r for page in client.query(QueryType.Orders, 10) for r in page.orders]
    positions = [r for page in client.query(QueryType.Positions, 10) for r in page.positions]
    return orders, positions


def control(desk: Desk) -> ControlClient:
    client = ControlClient(desk.bus(), "pytest")
    client.wait_ready(SAFETY_TIMEOUT_S)
    return client


def test_orders_reach_the_venue_fills_make_a_position_and_a_failing_strategy_is_reported(desk: Desk) -> None:
    client = control(desk)

    def settled():
        orders, positions = oms_view(client)
        mine = [o for o in orders if o.strategyId == KEEPER_ID]
        held = [p for p in positions if p.strategyId == KEEPER_ID and p.netQty > 0]
        return (mine, held) if len(mine) == 1 and held else None

    [order], [position] = desk.wait_for(settled, "the keeper's resting order and its position")
    assert order.ordStatus == OrdStatus.New  # acknowledged by the venue
    assert (order.side, order.instrumentId, order.leavesQty) == (Side.Buy, ETH.id, 50)
    assert 0 < position.netQty <= 50 and position.instrumentId == ETH.id  # the IOC bought what the book had

    def caught_up():
        # the oms books the fill before the strategies daemon reads its report, and its heartbeats say
        # so later still: under load, more than one watch window later
        daemons, strategies = watch(desk)
        mine = daemons.get("strategies")
        counted = mine is not None and mine.counters["strategies.fills"] >= 1
        return (daemons, strategies) if counted and {FAULTY_ID, KEEPER_ID} <= strategies.keys() else None

    daemons, strategies = desk.wait_for(caught_up, "the strategies' heartbeats to count the fill")
    counters = daemons["strategies"].counters
    assert counters["strategies.errors"] == 1 and counters["strategies.disabled"] == 1
    assert counters["strategies.running"] == 1 and counters["strategies.orders_sent"] >= 2
    assert counters["strategies.callbacks"] > 0 and counters["strategies.fills"] >= 1
    assert strategies[FAULTY_ID].state == "Degraded" and strategies[FAULTY_ID].counters["disabled"] == 1
    assert strategies[KEEPER_ID].state == "Running" and strategies[KEEPER_ID].counters["working_orders"] == 1
    assert "faulty on purpose" in desk.log("strategies")


def test_a_killed_daemon_is_restarted_with_its_orders_and_positions_from_the_oms(desk: Desk) -> None:
    client = control(desk)

    def with_resting_order() -> tuple[list, list] | None:
        orders, positions = oms_view(client)
        return (orders, positions) if any(o.strategyId == KEEPER_ID for o in orders) else None

    before_orders, before_positions = desk.wait_for(with_resting_order, "the keeper's resting order")
    [resting] = [o for o in before_orders if o.strategyId == KEEPER_ID]
    ours = {KEEPER_ID, FAULTY_ID}
    held = [p for p in before_positions if p.strategyId in ours]
    old = desk.kill("strategies")
    desk.wait_for(
        lambda: desk.pid("strategies") != old and desk.daemon("strategies")["state"] == "running", "a restart"
    )
    counters = desk.wait_for(
        lambda: (
            (c := watch(desk, 0.5)[0].get("strategies"))
            and c.pid != old
            and c.counters["strategies.phase"] == 2
            and c.counters
        ),
        "the restarted daemon to run",
    )
    assert counters["strategies.recovered_orders"] == 1
    assert counters["strategies.recovered_positions"] == len(held) >= 1
    assert counters["strategies.recovery_timeouts"] == 0 and counters["strategies.recovered_canceled"] == 0
    _, strategies = watch(desk)
    keeper = strategies[KEEPER_ID]
    assert keeper.pid != old and keeper.counters["working_orders"] == 1
    # it has seen its book (on_start and on_book at least) and sent nothing: it kept what it got back
    assert keeper.counters["callbacks"] >= 2 and keeper.counters["orders"] == 0
    orders, positions = oms_view(client)
    assert [(o.orderId, o.ordStatus) for o in orders if o.strategyId == KEEPER_ID] == [
        (resting.orderId, OrdStatus.New)
    ]
    assert [(p.strategyId, p.netQty) for p in positions if p.strategyId in ours] == [
        (p.strategyId, p.netQty) for p in held
    ]
