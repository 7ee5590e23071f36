"""The strategy host's contract with strategies and with the bus: callbacks, requests as SBE messages,
own orders and positions from the oms's reports, timers, heartbeats, market-data sequencing."""

from __future__ import annotations

import pytest

from core.book import BookSide
from core.codec.messages import (
    CancelOrder,
    DaemonState,
    ExecType,
    Heartbeat,
    NewOrder,
    OrdersSnapshot,
    OrdStatus,
    OrdType,
    PositionsSnapshot,
    ReplaceOrder,
    Side,
    TimeInForce,
)
from core.strategy import HostConfig, OrderError
from tests.core.strategy.helpers import (
    BTC,
    ETH,
    MS,
    SEC,
    T0,
    delta,
    feed,
    feed_state,
    make_host,
    position_update,
    recorder,
    report,
    snapshot,
    trade,
)

BIDS = [(6_000_000, 1000), (5_999_900, 2000)]
ASKS = [(6_000_100, 1000), (6_000_200, 2000)]


def started(**params):
    host, clock, out = make_host(recorder(**params))
    return host, clock, out, host.strategy("rec").strategy


def test_start_calls_on_start_once_and_sends_a_heartbeat_per_strategy() -> None:
    host, _, out = make_host(recorder("a", 1), recorder("b", 2, instrument="ETH-USD"))
    host.start()  # a second start does nothing
    for name in ("a", "b"):
        assert host.strategy(name).strategy.names() == ["on_start"]
    beats = out.heartbeats()
    assert [(b.strategyId, b.role, b.state) for b in beats] == [
        (1, "strategy:a", DaemonState.Running),
        (2, "strategy:b", DaemonState.Running),
    ]
    assert all(b.ts == T0 and b.startedTs == T0 and b.pid == 4242 and b.seq == 1 for b in beats)


def test_book_and_trade_callbacks_with_the_l2_book() -> None:
    host, _, _, rec = started()
    feed(host, snapshot(BTC.id, BIDS, ASKS, seq=1, publish_ts=T0 + 5))
    feed(host, delta(BTC.id, [(1, 6_000_050, 300), (2, 6_000_100, 0)], seq=2))
    feed(host, trade(BTC.id, 6_000_050, 300, Side.Sell, seq=3))
    feed(host, snapshot(ETH.id, BIDS, ASKS, seq=1))  # not this strategy's instrument
    assert rec.names() == ["on_start", "on_book", "on_book", "on_trade"]
    assert rec.calls[1].args == (BTC.id, True, BIDS[0], ASKS[0])
    assert rec.calls[2].args == (BTC.id, True, (6_000_050, 300), ASKS[1])
    assert rec.calls[3].args == (BTC.id, 6_000_050, 300, Side.Sell)
    market = host.strategy("rec").market(BTC.id)
    assert market.book.depth(BookSide.BID) == [(6_000_050, 300), *BIDS]
    assert market.publish_ts == 0 and market.updates == 2
    assert host.counters["md_unknown_instrument"] == 1


def test_a_sequence_gap_makes_the_book_unusable_until_a_snapshot() -> None:
    host, _, _, rec = started()
    feed(host, snapshot(BTC.id, BIDS, ASKS, seq=10))
    feed(host, delta(BTC.id, [(1, 6_000_010, 5)], seq=12))  # 11 was lost
    assert rec.calls[-1].args[:2] == (BTC.id, False)  # told once: the book is unusable
    feed(host, delta(BTC.id, [(1, 6_000_020, 5)], seq=13))  # dropped: not synced
    feed(host, delta(BTC.id, [(1, 6_000_020, 5)], seq=13))  # a repeat: dropped as old
    assert rec.names().count("on_book") == 2
    assert host.strategy("rec").market(BTC.id).book.best_bid() == BIDS[0]  # neither delta applied
    assert (host.counters["md_gaps"], host.counters["md_dropped_unsynced"], host.counters["md_old"]) == (
        1,
        1,
        1,
    )
    feed(host, snapshot(BTC.id, BIDS, ASKS, seq=14))
    assert rec.calls[-1].args[:2] == (BTC.id, True)


def test_a_feed_state_gap_makes_the_book_unusable() -> None:
    host, _, _, rec = started()
    feed(host, snapshot(BTC.id, BIDS, ASKS))
    feed(host, feed_state(BTC.id, 2))  # FeedStatus.Gap
    assert rec.calls[-1].args[:2] == (BTC.id, False)
    assert not host.strategy("rec").market(BTC.id).usable()


def test_submit_from_a_book_callback_sends_a_new_order_with_trigger_time() -> None:
    host, clock, out, rec = started(quote_on_book=True)
    clock.set(T0 + 7 * MS)
    feed(host, snapshot(BTC.id, BIDS, ASKS, publish_ts=T0 + 6 * MS))
    (req,) = out.requests()
    assert isinstance(req, NewOrder)
    assert (req.strategyId, req.clientId, req.instrumentId, req.venueId) == (1, 100, BTC.id, 1)
    assert (req.side, req.ordType, req.timeInForce, req.price, req.qty) == (
        Side.Buy,
        OrdType.Limit,
        TimeInForce.GTC,
        BIDS[0][0] - 1,
        100,
    )
    assert req.orderId == 0 and req.clOrdId == rec.quoted.cl_ord_id
    assert req.sendTs == T0 + 7 * MS and req.triggerTs == T0 + 6 * MS
    assert req.operator.user == "rec" and req.operator.host == "test-host" and req.operator.pid == 4242
    assert rec.quoted.status == OrdStatus.PendingNew and rec.quoted.trigger_ts == T0 + 6 * MS


def test_requests_outside_market_data_carry_no_trigger_and_unique_increasing_ids() -> None:
    host, _, out, _ = started()
    ctx = host.strategy("rec")
    a = ctx.submit(BTC.id, Side.Buy, 10, 5_000_000)
    b = ctx.submit(BTC.id, Side.Sell, 20, tif=TimeInForce.IOC)  # market order
    assert ctx.cancel(a)
    assert not ctx.cancel(a)  # a cancel is already in flight
    new_a, new_b, cancel = out.requests()
    assert new_a.triggerTs == 0
    assert (new_b.ordType, new_b.price, new_b.timeInForce) == (OrdType.Market, None, TimeInForce.IOC)
    assert isinstance(cancel, CancelOrder)
    assert (cancel.origClOrdId, cancel.orderId, cancel.instrumentId) == (a.cl_ord_id, 0, BTC.id)
    ids = [new_a.clOrdId, new_b.clOrdId, cancel.clOrdId]
    assert ids == sorted(set(ids)) and len(set(ids)) == 3
    corrs = [r.correlationId for r in out.requests()]
    assert len(set(corrs)) == 3
    assert ctx.order(cancel.clOrdId) is a and ctx.order(b.cl_ord_id) is b


def test_bad_requests_raise_in_the_strategy_and_send_nothing() -> None:
    host, _, out, _ = started()
    ctx = host.strategy("rec")
    bad = [
        lambda: ctx.submit(BTC.id, Side.Buy, 10, 6_000_000.5),  # a float price
        lambda: ctx.submit(BTC.id, Side.Buy, 10.0, 6_000_000),  # a float quantity
        lambda: ctx.submit(BTC.id, Side.Buy, 0, 6_000_000),
        lambda: ctx.submit(ETH.id, Side.Buy, 10, 300_000),  # not its instrument
        lambda: ctx.submit(BTC.id, Side.Buy, 10, -5),
        lambda: ctx.submit(BTC.id, Side.Buy, 10, 6_000_000, tif=TimeInForce.IOC, post_only=True),
        lambda: ctx.submit(BTC.id, Side.Buy, 10, post_only=True),
        lambda: ctx.submit(BTC.id, Side.Buy, BTC.max_qty + 1, 6_000_000),
        lambda: ctx.cancel(12345),  # no such order
    ]
    for call in bad:
        with pytest.raises(OrderError):
            call()
    assert out.requests() == []


def test_own_orders_follow_the_oms_reports() -> None:
    host, _, out, rec = started()
    ctx = host.strategy("rec")
    order = ctx.submit(BTC.id, Side.Buy, 100, 6_000_000, post_only=True)
    (req,) = out.requests()
    assert req.flags.postOnly
    assert not ctx.replace(order, price=6_000_010)  # not acknowledged yet: nothing sent
    feed(host, report(req, ExecType.PendingNew, OrdStatus.PendingNew, order_id=77, exec_id=1))
    feed(host, report(req, ExecType.New, OrdStatus.New, order_id=77, exec_id=2, leaves_qty=100))
    assert (order.order_id, order.status) == (77, OrdStatus.New)
    feed(
        host,
        report(
            req,
            ExecType.Trade,
            OrdStatus.PartiallyFilled,
            order_id=77,
            exec_id=3,
            last_qty=40,
            last_px=6_000_000,
            cum_qty=40,
            leaves_qty=60,
        ),
    )
    assert (order.cum_qty, order.leaves_qty, order.status) == (40, 60, OrdStatus.PartiallyFilled)
    # replace: the new terms apply once the oms confirms
    assert ctx.replace(order, price=6_000_010, qty=150)
    assert not ctx.replace(order, price=6_000_020)  # one request in flight at a time
    rep = out.requests()[-1]
    assert isinstance(rep, ReplaceOrder)
    assert (rep.origClOrdId, rep.orderId, rep.price, rep.qty) == (order.cl_ord_id, 77, 6_000_010, 150)
    feed(
        host,
        report(
            req,
            ExecType.Replaced,
            OrdStatus.Replaced,
            order_id=77,
            exec_id=4,
            cl_ord_id=rep.clOrdId,
            orig_cl_ord_id=req.clOrdId,
            cum_qty=40,
        ),
    )
    assert (order.cl_ord_id, order.price, order.qty, order.leaves_qty) == (rep.clOrdId, 6_000_010, 150, 110)
    assert order.status == OrdStatus.PartiallyFilled and order.orig_cl_ord_id == req.clOrdId
    assert ctx.orders(BTC.id) == [order]
    # cancel names the current clOrdId and the oms's id
    assert ctx.cancel(order)
    can = out.requests()[-1]
    assert (can.origClOrdId, can.orderId) == (rep.clOrdId, 77)
    feed(
        host,
        report(
            req,
            ExecType.Canceled,
            OrdStatus.Canceled,
            order_id=77,
            exec_id=5,
            cl_ord_id=rep.clOrdId,
            cum_qty=40,
        ),
    )
    assert order.is_done and ctx.orders() == [] and ctx.order(req.clOrdId) is order
    updates = [c.args for c in rec.calls if c.name == "on_order_update"]
    assert [u[1] for u in updates] == [
        ExecType.PendingNew,
        ExecType.New,
        ExecType.Trade,
        ExecType.Replaced,
        ExecType.Canceled,
    ]
    assert host.strategy("rec").counters["fills"] == 1


def test_reports_of_other_strategies_and_refused_requests() -> None:
    host, _, out, _ = started()
    ctx = host.strategy("rec")
    order = ctx.submit(BTC.id, Side.Buy, 100, 6_000_000)
    (req,) = out.requests()
    feed(host, report(req, ExecType.New, OrdStatus.New, order_id=5, strategy_id=99))
    assert order.status == OrdStatus.PendingNew and host.counters["reports_other_strategy"] == 1
    feed(host, report(req, ExecType.Rejected, OrdStatus.Rejected, reason=3, exec_id=9))
    assert order.status == OrdStatus.Rejected and order.last_reason.name == "MaxPosition"
    assert ctx.counters["rejects"] == 1 and ctx.orders() == []


def test_positions_as_the_oms_reports_them() -> None:
    host, _, _, rec = started()
    feed(host, position_update(1, BTC.id, 250, seq=5, realized="12.5"))
    feed(host, position_update(1, BTC.id, 999, seq=4))  # older: ignored
    feed(host, position_update(0, BTC.id, 777, seq=6))  # the account's, not the strategy's
    feed(host, position_update(2, BTC.id, 555, seq=7))  # another strategy's
    p = host.strategy("rec").position(BTC.id)
    assert (p.net_qty, str(p.realized_pnl), p.updates) == (250, "12.5", 1)
    assert [c.args for c in rec.calls if c.name == "on_position"] == [(BTC.id, 250)]
    assert host.counters["positions_old"] == 1


def test_timers_fire_in_deadline_order_and_repeat_until_cancelled() -> None:
    host, clock, _, rec = started()
    ctx = host.strategy("rec")
    ctx.set_timer(30 * MS, "late")
    tick = ctx.set_timer(10 * MS, "tick", repeat=True)
    ctx.set_timer_at(T0 + 5 * MS, "first")
    assert host.next_deadline() == T0 + 5 * MS
    clock.set(T0 + 35 * MS)
    host.poll_timers(T0 + 35 * MS)
    fired = [c.args for c in rec.calls if c.name == "on_timer"]
    assert fired == [("first", T0 + 35 * MS), ("tick", T0 + 35 * MS), ("late", T0 + 35 * MS)]
    host.poll_timers(T0 + 45 * MS)  # the repeating timer keeps its phase: due at 40 ms
    assert ctx.cancel_timer(tick) and not ctx.cancel_timer(tick)
    host.poll_timers(T0 + 100 * MS)
    assert [c.args[0] for c in rec.calls if c.name == "on_timer"] == ["first", "tick", "late", "tick"]
    with pytest.raises(ValueError):
        ctx.set_timer(0, "spin", repeat=True)


def test_heartbeats_every_interval_with_counters() -> None:
    host, clock, out = make_host(recorder(), config=HostConfig(heartbeat_interval_ms=500))
    out.clear()
    clock.set(T0 + 1200 * MS)
    host.poll_timers(T0 + 1200 * MS)  # 500 and 1000 ms were due: one catch-up beat, phase kept
    beats = out.heartbeats()
    assert len(beats) == 1 and beats[0].seq == 2 and beats[0].ts == T0 + 1200 * MS
    assert host.next_deadline() == T0 + 1500 * MS
    counters = {c.name: c.value for c in beats[0].counters}
    assert counters["callbacks"] == 1 and counters["errors"] == 0 and counters["disabled"] == 0


def test_stop_calls_on_stop_cancels_working_orders_and_says_stopping() -> None:
    host, _, out, rec = started()
    ctx = host.strategy("rec")
    order = ctx.submit(BTC.id, Side.Buy, 10, 5_000_000)
    out.clear()
    host.stop()
    assert rec.names()[-1] == "on_stop"
    cancel, beat = out.requests()[0], out.heartbeats()[0]
    assert isinstance(cancel, CancelOrder) and cancel.origClOrdId == order.cl_ord_id
    assert isinstance(beat, Heartbeat) and beat.state == DaemonState.Stopping
    with pytest.raises(OrderError, match="stopped"):
        ctx.submit(BTC.id, Side.Buy, 10, 5_000_000)


def test_undecodable_and_unexpected_input_is_counted_not_raised() -> None:
    host, _, _, _ = started()
    host.on_payload(b"\x00\x01garbage")
    host.on_payload(
        Heartbeat.encode_bytes(
            ts=0, role="x", pid=0, state=2, seq=0, startedTs=0, strategyId=0, counters=[], instance=b""
        )
    )
    assert host.counters["bad_messages"] == 1 and host.counters["ignored"] == 1


def test_two_hosts_fed_the_same_inputs_send_the_same_bytes() -> None:
    runs = []
    for _ in range(2):
        host, clock, out, _ = started(quote_on_book=True)
        host.strategy("rec").set_timer(SEC, "t")
        feed(host, snapshot(BTC.id, BIDS, ASKS, seq=1, publish_ts=T0))
        clock.set(T0 + 2 * SEC)
        host.poll_timers(T0 + 2 * SEC)
        runs.append([o.payload for o in out.outputs])
    assert runs[0] == runs[1] and len(runs[0]) == 3  # heartbeat, the order, the 1 s heartbeat


def test_a_restarted_host_gets_its_orders_and_positions_back_from_the_oms() -> None:
    host, _, out, rec = started()
    ctx = host.strategy("rec")
    row = (77, 123456, 1, BTC.id, 1, Side.Sell, OrdType.Limit, TimeInForce.GTC, OrdStatus.PartiallyFilled)
    orders = OrdersSnapshot.encode_bytes(
        correlationId=1,
        clientId=100,
        ts=T0,
        orders=[
            (*row, 6_100_000, 300, 100, 200, T0, T0),
            (
                78,
                123457,
                1,
                BTC.id,
                1,
                Side.Buy,
                OrdType.Limit,
                TimeInForce.GTC,
                OrdStatus.Filled,
                5_000_000,
                10,
                10,
                0,
                T0,
                T0,
            ),
            (
                79,
                5,
                9,
                BTC.id,
                1,
                Side.Buy,
                OrdType.Limit,
                TimeInForce.GTC,
                OrdStatus.New,
                5_000_000,
                10,
                0,
                10,
                T0,
                T0,
            ),
        ],
    )
    positions = PositionsSnapshot.encode_bytes(
        correlationId=2,
        clientId=100,
        ts=T0,
        positions=[
            (1, 1, BTC.id, -100, (60_000, 0), (5, 0), (0, 0), (0, 0), 6_000_000),
            (1, 0, BTC.id, -100, (0, 0), (0, 0), (0, 0), (0, 0), None),
        ],
    )
    host.on_payload(orders)
    host.on_payload(positions)
    (order,) = ctx.orders()
    assert (order.order_id, order.cl_ord_id, order.cum_qty, order.leaves_qty, order.external) == (
        77,
        123456,
        100,
        200,
        True,
    )
    assert ctx.position(BTC.id).net_qty == -100 and str(ctx.position(BTC.id).realized_pnl) == "5"
    assert [c.args for c in rec.calls if c.name == "on_position"] == [(BTC.id, -100)]
    assert ctx.cancel(order)
    cancel = out.requests()[-1]
    assert (cancel.orderId, cancel.origClOrdId) == (77, 123456)
    # a snapshot never overrides a newer PositionUpdate; replies for other clients are not ours
    feed(host, position_update(1, BTC.id, 50, seq=9))
    host.on_payload(positions)
    assert ctx.position(BTC.id).net_qty == 50
    other = PositionsSnapshot.encode_bytes(correlationId=3, clientId=7, ts=T0, positions=[])
    ignored = host.counters["ignored"]
    host.on_payload(other)
    assert host.counters["ignored"] == ignored + 1
