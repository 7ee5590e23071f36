"""The pairs strategy on two correlated instruments: enters past entry_z with both legs together, exits
under exit_z, and unwinds an entry whose leg failed (a reject, an IOC remainder, a timeout). The desk
tests run the real oms and sim venue behind the host; markets are hand-made books following a common
factor with a planted deviation of ETH."""

from __future__ import annotations

import math
import random

import pytest

from core.codec.messages import CancelOrder, ExecType, NewOrder, OrdStatus, Side, TimeInForce, decode
from core.marketdata.events import BookSnapshotEvent
from core.strategy import strategy_spec
from core.strategy.builtin.pairs import PairState
from tests.core.strategy.helpers import (
    BTC,
    CATALOG,
    ETH,
    MS,
    feed,
    make_desk,
    make_host,
    permissive_risk,
    report,
    snapshot,
    strategy_limits,
)

PAIRS = "core.strategy.builtin.pairs:PairsTrader"
PARAMS = {
    "leg_a": "BTC-USD",
    "leg_b": "ETH-USD",
    "qty_a": "0.01",
    "entry_z": 4.0,
    "exit_z": 1.0,
    "window": 60,
    "sample_interval_ms": 100,
    "min_samples": 30,
    "slippage_bps": "2",
    "cooldown_ms": 0,
}
STEP = 100 * MS


def spec(**overrides):
    return strategy_spec("pairs", 2, PAIRS, {**PARAMS, **overrides}, CATALOG)


class Path:
    """Mids following a common factor with independent noise; ETH can be shifted by some bps."""

    def __init__(self, seed: int = 1, factor_sd: float = 5e-5) -> None:
        self.rng = random.Random(seed)
        self.f = 0.0
        self.factor_sd = factor_sd

    def mids(self, eth_shift_bp: float = 0.0) -> tuple[int, int]:
        self.f += self.rng.gauss(0, self.factor_sd)
        a = 60_000 * math.exp(self.f + self.rng.gauss(0, 1e-4))
        b = 3_000 * math.exp(self.f + self.rng.gauss(0, 1e-4) + eth_shift_bp * 1e-4)
        return round(a * 100), round(b * 100)


def book(
    iid: int, mid: int, half: int, step: int, qty: int, ts: int, levels: int = 5, ask_qty: int | None = None
):
    bids = tuple((mid - half - k * step, qty) for k in range(levels))
    asks = tuple((mid + half + k * step, ask_qty or qty) for k in range(levels))
    return BookSnapshotEvent(iid, ts, ts, ts, bids, asks)


class Run:
    def __init__(self, risk=None, **overrides) -> None:
        self.desk = make_desk(spec(**overrides), risk=risk, record_requests=True)
        self.ctx = self.desk.host.strategy("pairs")
        self.pairs = self.ctx.strategy
        self.path = Path()
        self.thin_eth = False

    def steps(self, n: int, eth_shift_bp: float = 0.0) -> None:
        desk = self.desk
        for _ in range(n):
            t = desk.now + STEP
            desk.run_until(t)
            a, b = self.path.mids(eth_shift_bp)
            desk.market_event(book(BTC.id, a, 50, 50, 10_000, t))  # 1 BTC a level, 0.50 USD apart
            eth_ask = 30 if self.thin_eth else None  # 0.03 ETH a level: an IOC buy cannot fill
            desk.market_event(book(ETH.id, b, 5, 5, 20_000, t, ask_qty=eth_ask))
            desk.drain()

    def new_orders(self) -> list:
        return [m for m in map(decode, self.desk.requests) if isinstance(m, NewOrder)]

    def net(self, iid: int) -> int:
        p = self.ctx.position(iid)
        return p.net_qty


@pytest.mark.parametrize("estimator", ["ols", "kalman"])
def test_enters_on_a_stretched_spread_with_both_legs_and_exits_when_it_closes(estimator: str) -> None:
    run = Run(estimator=estimator)
    run.steps(40)
    assert run.pairs.state == PairState.FLAT and run.new_orders() == []
    run.steps(2, eth_shift_bp=40)  # ETH rich: the spread log(BTC) - beta log(ETH) drops: z < -entry
    entry = run.new_orders()
    assert run.pairs.stats["entries"] == 1 and len(entry) == 2
    btc, eth = entry
    assert (btc.instrumentId, btc.side, eth.instrumentId, eth.side) == (BTC.id, Side.Buy, ETH.id, Side.Sell)
    assert btc.timeInForce == eth.timeInForce == TimeInForce.IOC
    assert btc.triggerTs == eth.triggerTs > 0 and btc.sendTs == eth.sendTs  # sent together, from one md event
    assert btc.qty == 100  # 0.01 BTC
    entry_beta = run.pairs.last_entry["beta"]
    assert run.pairs.last_entry["z"] < -4.0 and 0 < entry_beta <= 5.0
    # leg B's notional is beta times leg A's (mids near 60000 and 3000; ETH lot 0.001)
    assert abs(eth.qty - entry_beta * 0.01 * 60_000 / 3_000 * 1000) <= 0.02 * eth.qty + 1
    assert run.pairs.state == PairState.IN_POSITION
    assert (run.net(BTC.id), run.net(ETH.id)) == (100, -eth.qty)  # as the oms reports it
    run.steps(10)  # the deviation is gone: |z| < exit_z
    assert run.pairs.stats["exits"] == 1 and run.pairs.state == PairState.FLAT
    exit_legs = run.new_orders()[2:4]
    assert [(o.instrumentId, o.side, o.qty) for o in exit_legs] == [
        (BTC.id, Side.Sell, 100),
        (ETH.id, Side.Buy, eth.qty),
    ]
    assert (run.net(BTC.id), run.net(ETH.id)) == (0, 0)
    assert run.pairs.stats["unwinds"] == 0 and run.pairs.stats["failed_legs"] == 0


def test_no_entry_when_the_legs_do_not_move_together() -> None:
    run = Run()
    run.path = Path(factor_sd=0.0)  # only independent noise: nothing to hedge with
    run.steps(40)
    run.steps(3, eth_shift_bp=40)
    assert run.pairs.fit.r2 < 0.25 and run.pairs.stats["entries"] == 0 and run.new_orders() == []


def test_a_rejected_leg_is_unwound() -> None:
    risk = strategy_limits(permissive_risk(), 2, ETH.id, max_order_qty="0.001")  # the ETH leg is refused
    run = Run(risk=risk)
    run.steps(40)
    run.steps(1, eth_shift_bp=40)
    run.desk.step(10 * MS)  # the venue answers the BTC leg: then the pair is judged
    orders = run.new_orders()
    assert [(o.instrumentId, o.side) for o in orders] == [
        (BTC.id, Side.Buy),
        (ETH.id, Side.Sell),
        (BTC.id, Side.Sell),
    ]
    assert orders[2].qty == orders[0].qty  # the filled BTC leg traded back
    assert run.pairs.stats["unwinds"] == 1 and run.pairs.stats["failed_legs"] == 1
    assert run.pairs.state == PairState.FLAT and run.pairs.held == {BTC.id: 0, ETH.id: 0}
    assert (run.net(BTC.id), run.net(ETH.id)) == (0, 0)


def test_an_ioc_remainder_is_unwound_on_both_legs() -> None:
    run = Run()
    run.steps(40)
    run.thin_eth = True
    run.steps(1, eth_shift_bp=-40)  # ETH cheap: short the spread: sell BTC, buy ETH (thin asks)
    run.desk.step(10 * MS)
    orders = run.new_orders()
    assert [(o.instrumentId, o.side) for o in orders[:2]] == [(BTC.id, Side.Sell), (ETH.id, Side.Buy)]
    reports = [decode(p) for p in run.desk.execution_reports]
    expired = [r for r in reports if r.execType == ExecType.Expired and r.strategyId == 2]
    assert len(expired) == 1 and expired[0].instrumentId == ETH.id and 0 < expired[0].cumQty < orders[1].qty
    unwind = orders[2:4]
    assert [(o.instrumentId, o.side, o.qty) for o in unwind] == [
        (BTC.id, Side.Buy, orders[0].qty),
        (ETH.id, Side.Sell, expired[0].cumQty),
    ]
    run.thin_eth = False
    run.steps(1)
    assert run.pairs.state == PairState.FLAT and (run.net(BTC.id), run.net(ETH.id)) == (0, 0)


def test_legs_that_never_finish_are_cancelled_at_the_timeout_and_the_filled_one_unwound() -> None:
    host, clock, out = make_host(spec(leg_timeout_ms=500))
    pairs = host.strategy("pairs").strategy
    path = Path()

    def step(shift: float = 0.0) -> None:
        clock.set(clock.time_ns() + STEP)
        host.poll_timers(clock.time_ns())
        a, b = path.mids(shift)
        feed(host, snapshot(BTC.id, [(a - 50, 10_000)], [(a + 50, 10_000)], publish_ts=clock.time_ns()))
        feed(host, snapshot(ETH.id, [(b - 5, 20_000)], [(b + 5, 20_000)], publish_ts=clock.time_ns()))

    for _ in range(40):
        step()
    step(40)
    btc, eth = out.requests()
    assert pairs.state == PairState.ENTERING
    # the BTC leg fills; the ETH leg is accepted and then nothing more is heard of it
    feed(
        host,
        report(
            btc, ExecType.Trade, OrdStatus.Filled, order_id=1, last_qty=100, last_px=btc.price, cum_qty=100
        ),
    )
    feed(host, report(eth, ExecType.New, OrdStatus.New, order_id=2, leaves_qty=eth.qty))
    clock.set(clock.time_ns() + 600 * MS)
    host.poll_timers(clock.time_ns())
    (cancel,) = out.requests()[2:]
    assert isinstance(cancel, CancelOrder) and cancel.origClOrdId == eth.clOrdId
    assert pairs.stats["leg_timeouts"] == 1
    feed(host, report(eth, ExecType.Canceled, OrdStatus.Canceled, order_id=2))
    (unwind,) = out.requests()[3:]
    assert (unwind.instrumentId, unwind.side, unwind.qty, unwind.timeInForce) == (
        BTC.id,
        Side.Sell,
        100,
        TimeInForce.IOC,
    )
    assert pairs.state == PairState.UNWINDING
