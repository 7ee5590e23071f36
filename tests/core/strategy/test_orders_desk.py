"""Own orders and positions tracked from what the real oms reports, with the real sim venue behind it
(an in-process desk: every message SBE-encoded and decoded as on the bus)."""

from __future__ import annotations

from decimal import Decimal

from core.codec.messages import ExecType, OrdStatus, Reason, Side, TimeInForce
from core.marketdata.events import BookSnapshotEvent
from tests.core.strategy.helpers import BTC, MS, T0, make_desk, permissive_risk, recorder, strategy_limits

BID, ASK = 6_000_000, 6_000_100


def desk_with_book(**kw):
    desk = make_desk(recorder(), **kw)
    desk.clock.set(T0 + MS)
    desk.market_event(
        BookSnapshotEvent(
            BTC.id, 1, desk.now, desk.now, ((BID, 500), (BID - 100, 500)), ((ASK, 300), (ASK + 100, 500))
        )
    )
    desk.step(MS)
    return desk, desk.host.strategy("rec")


def test_a_resting_order_is_acknowledged_then_cancelled() -> None:
    desk, ctx = desk_with_book()
    order = ctx.submit(BTC.id, Side.Buy, 100, BID - 50)
    desk.step(MS)
    assert order.status == OrdStatus.New and order.order_id > 0 and ctx.orders() == [order]
    assert ctx.cancel(order)
    desk.step(MS)
    assert order.status == OrdStatus.Canceled and ctx.orders() == []
    kinds = [c.args[1] for c in ctx.strategy.calls if c.name == "on_order_update"]
    assert kinds == [ExecType.PendingNew, ExecType.New, ExecType.PendingCancel, ExecType.Canceled]


def test_fills_cum_qty_average_price_and_the_oms_position() -> None:
    desk, ctx = desk_with_book()
    order = ctx.submit(
        BTC.id, Side.Buy, 500, ASK + 100, tif=TimeInForce.IOC
    )  # takes 300 @ ASK, 200 @ ASK+100
    desk.step(MS)
    assert order.status == OrdStatus.Filled and (order.cum_qty, order.leaves_qty) == (500, 0)
    assert order.avg_px == (Decimal(300 * ASK + 200 * (ASK + 100)) / 500).scaleb(BTC.price_exponent)
    pos = ctx.position(BTC.id)
    assert pos.net_qty == 500 and pos.updates >= 1
    assert pos.avg_px == order.avg_px
    assert ctx.counters["fills"] == 2
    assert [c.args for c in ctx.strategy.calls if c.name == "on_position"][-1] == (BTC.id, 500)
    # the oms's own answer agrees
    (mine,) = [p for p in desk.positions() if p.strategy_id == 1]
    assert mine.net_qty == 500


def test_a_replace_takes_the_new_terms_and_id() -> None:
    desk, ctx = desk_with_book()
    order = ctx.submit(BTC.id, Side.Sell, 100, ASK + 200)
    desk.step(MS)
    first_id = order.cl_ord_id
    assert ctx.replace(order, price=ASK + 300, qty=150)
    desk.step(MS)
    assert (order.price, order.qty, order.status) == (ASK + 300, 150, OrdStatus.New)
    assert (
        order.cl_ord_id != first_id and ctx.order(order.cl_ord_id) is order and ctx.order(first_id) is order
    )
    (live,) = desk.venue.engine(BTC.id).live_orders()
    assert (live.price, live.qty) == (ASK + 300, 150)


def test_a_risk_reject_finishes_the_order_with_the_reason() -> None:
    risk = strategy_limits(permissive_risk(), 1, BTC.id, max_order_qty="0.01")
    desk, ctx = desk_with_book(risk=risk)
    order = ctx.submit(BTC.id, Side.Buy, 200, BID)  # 0.02 BTC > 0.01
    desk.step(MS)
    assert order.status == OrdStatus.Rejected and order.last_reason == Reason.MaxOrderQty
    assert ctx.orders() == [] and ctx.counters["rejects"] == 1
