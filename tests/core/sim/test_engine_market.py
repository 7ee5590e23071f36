"""The engine against the market book: walking levels, consumed liquidity, the queue-position model,
trades through resting orders and the book moving through them. Hand-written book states."""

from __future__ import annotations

from core.codec.messages import OrdStatus, TimeInForce
from core.marketdata.events import BookSnapshotEvent, FeedStateEvent, FeedStatus
from core.sim import Liquidity, OrderExpired, QueueCancels, SelfTradePolicy
from tests.core.sim.conftest import ASK, BID, BUY, INST, SELL, Driver, fills, kinds, make_engine, oid


def market_fills(reports, venue_order_id):
    return [(f.last_px, f.last_qty) for f in fills(reports, venue_order_id) if f.contra_venue_order_id == 0]


def test_marketable_limit_walks_the_book_and_rests_the_rest(drv: Driver):
    drv.snapshot([(99, 10)], [(100, 3), (101, 4), (103, 5)])
    r = drv.buy(8, 102)
    o = oid(r)
    assert market_fills(r, o) == [(100, 3), (101, 4)]
    assert all(f.liquidity == Liquidity.TAKER for f in fills(r, o))
    rest = drv.engine.order(o)
    assert rest.resting and rest.price == 102 and rest.leaves_qty == 1 and rest.ahead == 0


def test_consumed_liquidity_stays_gone_until_the_level_updates(drv: Driver):
    drv.snapshot([(98, 5)], [(100, 5), (101, 5)])
    assert market_fills(drv.buy(3, 100, tif=TimeInForce.IOC), 1) == [(100, 3)]
    r = drv.buy(3, 100, tif=TimeInForce.IOC)
    assert market_fills(r, oid(r)) == [(100, 2)] and isinstance(r[-1], OrderExpired)
    r = drv.delta((ASK, 101, 6))  # another level: 100 stays consumed
    r = drv.buy(1, 100, tif=TimeInForce.IOC)
    assert kinds(r) == ["OrderAccepted", "OrderExpired"]
    drv.delta((ASK, 100, 5))  # the feed's number is the truth again
    r = drv.buy(3, 100, tif=TimeInForce.IOC)
    assert market_fills(r, oid(r)) == [(100, 3)]
    drv.snapshot([(98, 5)], [(100, 5)])  # a snapshot also ends consumption
    r = drv.buy(5, 100, tif=TimeInForce.IOC)
    assert market_fills(r, oid(r)) == [(100, 5)]


def test_market_order_walks_the_book_and_expires_when_it_runs_out(drv: Driver):
    drv.snapshot([(98, 5)], [(100, 2), (101, 2)])
    r = drv.buy(10)
    assert market_fills(r, oid(r)) == [(100, 2), (101, 2)]
    assert isinstance(r[-1], OrderExpired) and r[-1].cum_qty == 4
    r = drv.sell(3)
    assert market_fills(r, oid(r)) == [(98, 3)]


def test_fok_against_the_market_book(drv: Driver):
    drv.snapshot([], [(100, 3), (101, 3)])
    assert kinds(drv.buy(7, 101, tif=TimeInForce.FOK)) == ["OrderAccepted", "OrderExpired"]
    r = drv.buy(6, 101, tif=TimeInForce.FOK)
    assert market_fills(r, oid(r)) == [(100, 3), (101, 3)]


def test_post_only_against_the_market_book(drv: Driver):
    drv.snapshot([(99, 5)], [(100, 5)])
    assert kinds(drv.buy(1, 100, post_only=True)) == ["OrderRejected"]
    assert kinds(drv.sell(1, 99, post_only=True)) == ["OrderRejected"]
    r = drv.buy(1, 99, post_only=True)
    assert kinds(r) == ["OrderAccepted"]
    assert drv.engine.order(oid(r)).ahead == 5


def test_self_trade_prevention_never_applies_to_market_liquidity(book_impl):
    drv = Driver(make_engine(book_impl, self_trade=SelfTradePolicy.CANCEL_INCOMING))
    drv.snapshot([], [(100, 5)])
    r = drv.buy(5, 100, acct=1)
    assert market_fills(r, oid(r)) == [(100, 5)]


# -- queue position ---------------------------------------------------------------------------------


def test_order_joins_behind_the_displayed_size_and_trades_advance_it(drv: Driver):
    drv.snapshot([(99, 5)], [(101, 5)])
    o = oid(drv.buy(3, 99))
    assert drv.engine.order(o).ahead == 5
    assert not fills(drv.trade(99, 3, SELL))  # 3 of the 5 ahead traded
    assert drv.engine.order(o).ahead == 2
    r = drv.trade(99, 4, SELL)  # 2 ahead, then 2 of ours
    [f] = fills(r, o)
    assert (f.last_px, f.last_qty, f.leaves_qty, f.liquidity) == (99, 2, 1, Liquidity.MAKER)
    assert f.contra_venue_order_id == 0
    assert drv.engine.order(o).ahead == 0


def test_trades_on_the_other_side_or_price_do_not_move_the_queue(drv: Driver):
    drv.snapshot([(99, 5)], [(101, 5)])
    o = oid(drv.buy(3, 99))
    drv.trade(101, 4, BUY)  # a buyer lifting asks
    drv.trade(100, 4, SELL)  # sellers hit a higher bid: our level is not reached
    assert drv.engine.order(o).ahead == 5 and not fills(drv.log, o)
    r = drv.trade(98, 2, SELL)  # sellers went below our bid: they traded through us
    assert [(f.last_px, f.last_qty) for f in fills(r, o)] == [(99, 2)]


def test_depth_decrease_explained_by_trades_is_not_counted_twice(drv: Driver):
    drv.snapshot([(99, 10)], [(101, 5)])
    o = oid(drv.buy(5, 99))
    drv.trade(99, 4, SELL)
    assert drv.engine.order(o).ahead == 6
    drv.delta((BID, 99, 6))  # the feed shows the trade
    assert drv.engine.order(o).ahead == 6
    drv.delta((BID, 99, 3))  # 3 canceled: nothing was behind us, so they were ahead
    assert drv.engine.order(o).ahead == 3
    assert not fills(drv.trade(99, 3, SELL), o)
    assert [f.last_qty for f in fills(drv.trade(99, 2, SELL), o)] == [2]


def test_size_increases_join_behind(drv: Driver):
    drv.snapshot([(99, 10)], [(101, 5)])
    o = oid(drv.buy(5, 99))
    drv.delta((BID, 99, 25))
    assert drv.engine.order(o).ahead == 10
    drv.snapshot([(99, 40)], [(101, 5)])
    assert drv.engine.order(o).ahead == 10


def test_cancels_come_from_the_back_by_default(book_impl):
    drv = Driver(make_engine(book_impl, queue_cancels=QueueCancels.BACK))
    drv.snapshot([(99, 10)], [(101, 5)])
    o = oid(drv.buy(5, 99))
    drv.delta((BID, 99, 20))  # 10 behind us
    drv.delta((BID, 99, 14))  # 6 canceled: all from behind
    assert drv.engine.order(o).ahead == 10
    drv.delta((BID, 99, 7))  # 7 more: the 4 left behind, then 3 ahead
    assert drv.engine.order(o).ahead == 7


def test_pro_rata_cancels(book_impl):
    drv = Driver(make_engine(book_impl, queue_cancels=QueueCancels.PRO_RATA))
    drv.snapshot([(99, 10)], [(101, 5)])
    o = oid(drv.buy(5, 99))
    drv.delta((BID, 99, 20))
    drv.delta((BID, 99, 14))  # 6 of 20 canceled: 10 x 6/20 = 3 of them ahead of us
    assert drv.engine.order(o).ahead == 7


def test_level_removed_by_the_feed_puts_us_first(drv: Driver):
    drv.snapshot([(99, 10), (98, 4)], [(101, 5)])
    o = oid(drv.buy(5, 99))
    drv.snapshot([(98, 4)], [(101, 5)])
    assert drv.engine.order(o).ahead == 0
    assert [f.last_qty for f in fills(drv.trade(99, 2, SELL), o)] == [2]


def test_trade_through_our_price_fills_with_nothing_ahead(drv: Driver):
    drv.snapshot([(99, 5)], [(101, 50)])
    o = oid(drv.sell(4, 101))
    assert drv.engine.order(o).ahead == 50
    r = drv.trade(102, 3, BUY)  # a buyer paid 102: our 101 would have traded first
    [f] = fills(r, o)
    assert (f.last_px, f.last_qty, f.liquidity) == (101, 3, Liquidity.MAKER)
    assert drv.engine.order(o).ahead == 0


def test_one_market_trade_fills_at_most_its_size(drv: Driver):
    drv.snapshot([(99, 5)], [(102, 5)])
    a = oid(drv.sell(3, 101, acct=1))
    b = oid(drv.sell(4, 101, acct=2))
    c = oid(drv.sell(4, 100, acct=3))
    r = drv.trade(101, 8, BUY)
    assert [(f.venue_order_id, f.last_px, f.last_qty) for f in fills(r)] == [
        (c, 100, 4),
        (a, 101, 3),
        (b, 101, 1),
    ]


def test_book_moving_through_a_resting_order_fills_it_at_its_price(drv: Driver):
    drv.snapshot([(98, 5)], [(101, 5)])
    o = oid(drv.buy(6, 100))
    r = drv.delta((ASK, 101, 0), (ASK, 99, 4))  # a seller now offers 99, below our 100 bid
    [f] = fills(r, o)
    assert (f.last_px, f.last_qty, f.liquidity, f.leaves_qty) == (100, 4, Liquidity.MAKER, 2)
    # The 4 offered at 99 went to us: nothing left there for the next buyer.
    r = drv.buy(1, 99, acct=2, tif=TimeInForce.IOC)
    assert kinds(r) == ["OrderAccepted", "OrderExpired"]
    r = drv.snapshot([(98, 5)], [(100, 10)])  # the ask reaches our price exactly
    assert [f.last_qty for f in fills(r, o)] == [2] and drv.engine.order(o).status == OrdStatus.Filled


def test_aggressor_takes_market_ahead_then_simulated_then_market_behind(drv: Driver):
    drv.snapshot([(98, 5)], [(100, 4)])
    s = oid(drv.sell(3, 100, acct=2))
    assert drv.engine.order(s).ahead == 4
    drv.delta((ASK, 100, 6))  # 2 more joined behind our sell
    r = drv.buy(8, 100, acct=1)
    b = oid(r)
    taker = [(f.contra_venue_order_id, f.last_qty) for f in fills(r, b)]
    assert taker == [(0, 4), (s, 3), (0, 1)]
    assert drv.engine.order(s).status == OrdStatus.Filled
    # 5 of the 6 displayed were consumed.
    r = drv.buy(2, 100, acct=1, tif=TimeInForce.IOC)
    assert market_fills(r, oid(r)) == [(100, 1)]


def test_aggressor_consuming_the_queue_ahead_moves_resting_orders_up(drv: Driver):
    drv.snapshot([(98, 5)], [(100, 10)])
    s = oid(drv.sell(3, 100, acct=2))
    drv.buy(4, 100, acct=1, tif=TimeInForce.IOC)  # takes 4 of the 10 ahead of s
    assert drv.engine.order(s).ahead == 6


def test_joining_a_consumed_level_counts_only_what_is_left(drv: Driver):
    drv.snapshot([(98, 5)], [(100, 5)])
    drv.buy(3, 100, tif=TimeInForce.IOC)
    s = oid(drv.sell(1, 100, acct=2))
    assert drv.engine.order(s).ahead == 2


def test_a_resting_order_better_than_the_market_is_first_in_line(drv: Driver):
    drv.snapshot([(98, 5)], [(101, 5)])
    o = oid(drv.buy(2, 99))  # a new best bid
    assert drv.engine.order(o).ahead == 0
    drv.delta((BID, 99, 7))  # others join behind
    assert drv.engine.order(o).ahead == 0
    r = drv.sell(3, 99, acct=2)
    assert [(f.contra_venue_order_id, f.last_qty) for f in fills(r, oid(r))] == [(o, 2), (0, 1)]


def test_a_feed_gap_withdraws_market_liquidity_until_the_next_snapshot(drv: Driver):
    drv.snapshot([(98, 5)], [(100, 5)])
    o = oid(drv.buy(3, 98))
    gap = FeedStateEvent(INST.id, drv.t, FeedStatus.GAP, 10, 12, 1, "lost")
    drv.engine.on_event(FeedStateEvent(INST.id, drv.t, FeedStatus.OK), drv.t)
    assert drv.engine.market.best(ASK) == (100, 5)  # an OK status changes nothing
    drv.engine.on_event(gap, drv.t)
    r = drv.buy(1, 100, tif=TimeInForce.IOC)
    assert kinds(r) == ["OrderAccepted", "OrderExpired"]  # nothing to trade against
    assert drv.engine.order(o).ahead == 5  # resting orders keep their place
    drv.engine.on_event(BookSnapshotEvent(INST.id, 20, drv.t, drv.t, ((98, 4),), ((100, 5),)), drv.t)
    assert drv.engine.order(o).ahead == 4
    r = drv.buy(1, 100, tif=TimeInForce.IOC)
    assert market_fills(r, oid(r)) == [(100, 1)]
