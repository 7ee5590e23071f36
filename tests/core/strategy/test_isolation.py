"""A strategy that raises is counted, reported and (by default) disabled with its orders cancelled; the
host and the other strategies carry on."""

from __future__ import annotations

from core.codec.messages import CancelOrder, DaemonState, ExecType, NewOrder, OrdStatus, Side
from core.strategy import HostConfig, StrategyState
from tests.core.strategy.helpers import BTC, MS, T0, feed, make_host, recorder, report, snapshot, trade

BIDS = [(6_000_000, 1000)]
ASKS = [(6_000_100, 1000)]


def test_a_failing_strategy_is_disabled_and_its_orders_cancelled_others_carry_on() -> None:
    bad, good = recorder("bad", 1, fail_in="on_book"), recorder("good", 2, quote_on_book=True)
    host, clock, out = make_host(bad, good)
    bad_ctx, good_ctx = host.strategy("bad"), host.strategy("good")
    working = bad_ctx.submit(BTC.id, Side.Sell, 10, 6_100_000)  # placed before it fails
    out.clear()
    feed(host, snapshot(BTC.id, BIDS, ASKS, publish_ts=T0))
    assert bad_ctx.state == StrategyState.DISABLED and good_ctx.state == StrategyState.RUNNING
    assert bad_ctx.counters["errors"] == 1 and "on_book: RuntimeError: boom in on_book" in bad_ctx.last_error
    failure = host.errors[-1]
    assert (failure.strategy, failure.phase) == ("bad", "on_book") and "boom in on_book" in failure.traceback
    # its working order is cancelled; the good strategy's quote went out as usual
    cancels = [m for m in out.requests() if isinstance(m, CancelOrder)]
    news = [m for m in out.requests() if isinstance(m, NewOrder)]
    assert [(c.strategyId, c.origClOrdId) for c in cancels] == [(1, working.cl_ord_id)]
    assert [n.strategyId for n in news] == [2]
    # observers learn at once: a Degraded heartbeat with the error counters
    beat = next(b for b in out.heartbeats() if b.strategyId == 1)
    counters = {c.name: c.value for c in beat.counters}
    assert beat.state == DaemonState.Degraded and counters["errors"] == 1 and counters["disabled"] == 1
    # no more callbacks for it; reports for its orders are still tracked
    calls_before = len(bad_ctx.strategy.calls)
    feed(host, snapshot(BTC.id, BIDS, ASKS))
    assert len(bad_ctx.strategy.calls) == calls_before
    assert len(good_ctx.strategy.calls) == 3
    feed(
        host,
        report(
            cancels[0],
            ExecType.Canceled,
            OrdStatus.Canceled,
            order_id=3,
            cl_ord_id=working.cl_ord_id,
            strategy_id=1,
        ),
    )
    assert working.status == OrdStatus.Canceled and bad_ctx.orders() == []
    # its timers are gone, the host's heartbeats go on
    clock.set(T0 + 1000 * MS)
    host.poll_timers(T0 + 1000 * MS)
    assert host.counters["strategy_errors"] == 1 and host.counters["disabled"] == 1


def test_with_on_error_continue_it_keeps_running_and_counting() -> None:
    host, _, _ = make_host(recorder("bad", 1, fail_in="on_book"), config=HostConfig(on_error="continue"))
    for _ in range(3):
        feed(host, snapshot(BTC.id, BIDS, ASKS))
    ctx = host.strategy("bad")
    assert ctx.state == StrategyState.RUNNING and ctx.counters["errors"] == 3
    assert ctx.strategy.names().count("on_book") == 3


def test_max_errors_before_disabling() -> None:
    host, _, _ = make_host(recorder("bad", 1, fail_in="on_book"), config=HostConfig(max_errors=2))
    ctx = host.strategy("bad")
    feed(host, snapshot(BTC.id, BIDS, ASKS))
    assert ctx.state == StrategyState.RUNNING
    feed(host, snapshot(BTC.id, BIDS, ASKS))
    assert ctx.state == StrategyState.DISABLED and ctx.counters["errors"] == 2


def test_failing_constructor_or_on_start_disables_only_that_strategy() -> None:
    host, _, out = make_host(
        recorder("ctor", 1, fail_in="__init__"),
        recorder("start", 2, fail_in="on_start"),
        recorder("fine", 3),
        config=HostConfig(on_error="continue"),  # a strategy that cannot start is disabled regardless
    )
    states = {c.name: c.state for c in host.contexts}
    assert states == {
        "ctor": StrategyState.DISABLED,
        "start": StrategyState.DISABLED,
        "fine": StrategyState.RUNNING,
    }
    assert host.strategy("ctor").strategy is None
    feed(host, snapshot(BTC.id, BIDS, ASKS))
    assert host.strategy("fine").strategy.names() == ["on_start", "on_book"]
    assert {b.strategyId: b.state for b in out.heartbeats()} == {
        1: DaemonState.Degraded,
        2: DaemonState.Degraded,
        3: DaemonState.Running,
    }


def test_an_order_with_a_replace_in_flight_is_cancelled_once_the_replace_is_answered() -> None:
    host, _, out = make_host(recorder("bad", 1, fail_in="on_trade"))
    ctx = host.strategy("bad")
    order = ctx.submit(BTC.id, Side.Buy, 10, 6_000_000)
    (new,) = out.requests()
    feed(host, report(new, ExecType.New, OrdStatus.New, order_id=9))
    assert ctx.replace(order, price=6_000_010)
    rep = out.requests()[-1]
    out.clear()
    feed(host, trade(BTC.id, 6_000_000, 1))  # raises: disabled while the replace is in flight
    assert ctx.state == StrategyState.DISABLED and out.requests() == []  # the oms would refuse a cancel now
    feed(
        host,
        report(
            new,
            ExecType.Replaced,
            OrdStatus.Replaced,
            order_id=9,
            cl_ord_id=rep.clOrdId,
            orig_cl_ord_id=new.clOrdId,
        ),
    )
    (cancel,) = out.requests()
    assert isinstance(cancel, CancelOrder) and cancel.origClOrdId == rep.clOrdId and cancel.orderId == 9
