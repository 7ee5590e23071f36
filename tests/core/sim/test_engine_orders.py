"""Order handling between simulated orders (no market book): types, TIFs, priority, replace, STP,
rejects and fees. Every test runs on the fast and the reference own-order book."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.codec.messages import ExecType, OrdStatus, OrdType, Reason, Side, TimeInForce
from core.instruments import Instrument
from core.sim import (
    CancelRejected,
    CancelRequest,
    Liquidity,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    RejectCode,
    ReplaceRejected,
    SelfTradePolicy,
    SelfTradeScope,
)
from tests.core.sim.conftest import BUY, INST, SELL, Driver, fills, kinds, make_engine, oid

# -- limit orders, price-time priority, partial fills ---------------------------------------------


def test_limit_order_rests_after_an_ack(drv: Driver):
    r = drv.buy(10, 100)
    assert kinds(r) == ["OrderAccepted"]
    ack = r[0]
    assert ack.exec_type == ExecType.New and ack.ord_status == OrdStatus.New
    assert (ack.qty, ack.cum_qty, ack.leaves_qty, ack.price) == (10, 0, 10, 100)
    assert ack.venue_order_id > 0 and ack.transact_ts == drv.t
    [resting] = drv.engine.resting_orders()
    assert resting.venue_order_id == ack.venue_order_id


def test_price_then_time_priority(drv: Driver):
    a = oid(drv.sell(5, 101, acct=1))
    b = oid(drv.sell(5, 101, acct=2))
    c = oid(drv.sell(5, 100, acct=3))  # better price, later
    r = drv.buy(12, 101, acct=9)
    maker_fills = [
        (f.venue_order_id, f.last_px, f.last_qty) for f in fills(r) if f.liquidity == Liquidity.MAKER
    ]
    assert maker_fills == [(c, 100, 5), (a, 101, 5), (b, 101, 2)]
    taker = [f for f in fills(r) if f.liquidity == Liquidity.TAKER]
    assert [f.last_px for f in taker] == [100, 101, 101]
    assert taker[-1].ord_status == OrdStatus.Filled and taker[-1].cum_qty == 12
    # B keeps the rest of its size, still resting.
    [left] = drv.engine.resting_orders()
    assert left.venue_order_id == b and left.leaves_qty == 3 and left.status == OrdStatus.PartiallyFilled


def test_partial_fills_keep_cum_plus_leaves_and_average_price(drv: Driver):
    s1 = oid(drv.sell(4, 100, acct=2))
    s2 = oid(drv.sell(6, 103, acct=3))
    buy = drv.buy(20, 103)
    taker = fills(buy, oid(buy))
    assert [(f.last_qty, f.cum_qty, f.leaves_qty) for f in taker] == [(4, 4, 16), (6, 10, 10)]
    assert all(f.ord_status == OrdStatus.PartiallyFilled for f in taker)
    # (4 * 1.00 + 6 * 1.03) / 10 = 1.018
    assert taker[-1].avg_px == Decimal("1.018")
    assert fills(buy, s1)[0].ord_status == OrdStatus.Filled
    assert fills(buy, s2)[0].ord_status == OrdStatus.Filled
    [rest] = drv.engine.resting_orders()
    assert rest.venue_order_id == oid(buy) and rest.leaves_qty == 10 and rest.price == 103


def test_internal_match_shares_a_trade_id_and_names_the_counterparty(drv: Driver):
    s = oid(drv.sell(3, 100, acct=2))
    r = drv.buy(3, 100)
    b = oid(r)
    maker, taker = fills(r)
    assert maker.venue_order_id == s and taker.venue_order_id == b
    assert maker.trade_id == taker.trade_id
    assert maker.contra_venue_order_id == b and taker.contra_venue_order_id == s
    assert maker.liquidity == Liquidity.MAKER and taker.liquidity == Liquidity.TAKER


def test_exec_ids_are_unique_and_increasing(drv: Driver):
    drv.sell(3, 100, acct=2)
    drv.sell(3, 101, acct=3)
    drv.buy(10, 101)
    drv.cancel(orig=3)
    ids = [r.exec_id for r in drv.log]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


# -- order types and time in force --------------------------------------------------------------


def test_market_order_walks_levels_and_expires_the_rest(drv: Driver):
    drv.sell(2, 100, acct=2)
    drv.sell(3, 105, acct=3)
    r = drv.buy(10)
    assert kinds(r)[0] == "OrderAccepted"
    taker = fills(r, oid(r))
    assert [(f.last_px, f.last_qty) for f in taker] == [(100, 2), (105, 3)]
    assert isinstance(r[-1], OrderExpired) and r[-1].ord_status == OrdStatus.Expired
    assert r[-1].cum_qty == 5 and r[-1].leaves_qty == 0
    assert not drv.engine.resting_orders()


def test_market_order_on_an_empty_book_expires(drv: Driver):
    r = drv.sell(5)
    assert kinds(r) == ["OrderAccepted", "OrderExpired"]


def test_ioc_fills_what_it_can_and_never_rests(drv: Driver):
    drv.sell(4, 100, acct=2)
    r = drv.buy(10, 101, tif=TimeInForce.IOC)
    assert kinds(r) == ["OrderAccepted", "OrderFilled", "OrderFilled", "OrderExpired"]
    assert r[-1].cum_qty == 4 and r[-1].exec_type == ExecType.Expired
    assert not drv.engine.resting_orders()


def test_fok_short_of_size_expires_untouched(drv: Driver):
    s = oid(drv.sell(4, 100, acct=2))
    r = drv.buy(5, 100, tif=TimeInForce.FOK)
    assert kinds(r) == ["OrderAccepted", "OrderExpired"]
    assert r[-1].cum_qty == 0
    [rest] = drv.engine.resting_orders()
    assert rest.venue_order_id == s and rest.leaves_qty == 4


def test_fok_with_enough_size_fills_completely(drv: Driver):
    drv.sell(4, 100, acct=2)
    drv.sell(4, 101, acct=3)
    r = drv.buy(6, 101, tif=TimeInForce.FOK)
    taker = fills(r, oid(r))
    assert sum(f.last_qty for f in taker) == 6 and taker[-1].ord_status == OrdStatus.Filled


def test_market_fok(drv: Driver):
    drv.sell(4, 100, acct=2)
    assert kinds(drv.buy(5, tif=TimeInForce.FOK)) == ["OrderAccepted", "OrderExpired"]
    r = drv.buy(4, tif=TimeInForce.FOK)
    assert fills(r, oid(r))[-1].ord_status == OrdStatus.Filled


@pytest.mark.parametrize("tif", [TimeInForce.GTC, TimeInForce.Day])
def test_gtc_and_day_rest_their_remainder(drv: Driver, tif):
    drv.sell(4, 100, acct=2)
    r = drv.buy(10, 100, tif=tif)
    assert kinds(r) == ["OrderAccepted", "OrderFilled", "OrderFilled"]
    [rest] = drv.engine.resting_orders()
    assert rest.leaves_qty == 6 and rest.tif == tif


def test_post_only_rests_when_passive_and_is_rejected_when_it_would_take(drv: Driver):
    drv.sell(4, 101, acct=2)
    assert kinds(drv.buy(5, 100, post_only=True)) == ["OrderAccepted"]
    r = drv.buy(5, 101, post_only=True)
    assert kinds(r) == ["OrderRejected"]
    rej = r[0]
    assert rej.code == RejectCode.POST_ONLY_WOULD_TAKE and rej.reason == Reason.VenueReject
    assert rej.venue_order_id == 0 and rej.ord_status == OrdStatus.Rejected
    assert len(drv.engine.resting_orders()) == 2  # nothing traded


# -- cancel ---------------------------------------------------------------------------------------


def test_cancel_by_venue_id_and_by_client_id(drv: Driver):
    a = drv.buy(5, 100)
    drv.buy(5, 99)
    r = drv.cancel(venue_order_id=oid(a))
    assert kinds(r) == ["OrderCanceled"]
    c = r[0]
    assert c.exec_type == ExecType.Canceled and c.ord_status == OrdStatus.Canceled
    assert c.leaves_qty == 0 and c.orig_cl_ord_id == a[0].cl_ord_id and c.reason == Reason(0)
    r = drv.cancel(orig=2)
    assert kinds(r) == ["OrderCanceled"] and r[0].price == 99
    assert not drv.engine.resting_orders()


def test_cancel_unknown_order(drv: Driver):
    r = drv.cancel(venue_order_id=12345)
    assert kinds(r) == ["CancelRejected"]
    assert r[0].reason == Reason.UnknownOrder and r[0].code == RejectCode.UNKNOWN_ORDER
    assert r[0].exec_type == ExecType.CancelRejected


def test_cancel_of_a_filled_or_canceled_order_is_too_late(drv: Driver):
    s = drv.sell(3, 100, acct=2)
    drv.buy(3, 100)
    r = drv.cancel(venue_order_id=oid(s), acct=2)
    assert isinstance(r[0], CancelRejected)
    assert r[0].reason == Reason.TooLateToCancel and r[0].ord_status == OrdStatus.Filled
    b = drv.buy(1, 90)
    drv.cancel(venue_order_id=oid(b))
    r = drv.cancel(venue_order_id=oid(b))
    assert r[0].reason == Reason.TooLateToCancel and r[0].ord_status == OrdStatus.Canceled


def test_cannot_cancel_another_accounts_order(drv: Driver):
    a = drv.buy(5, 100, acct=1)
    r = drv.cancel(venue_order_id=oid(a), acct=2)
    assert r[0].reason == Reason.UnknownOrder
    assert len(drv.engine.resting_orders()) == 1


def test_terminal_memory_bounds_too_late_answers(book_impl):
    drv = Driver(make_engine(book_impl, terminal_memory=2))
    first = drv.buy(1, 10)
    drv.cancel(venue_order_id=oid(first))
    for _ in range(2):
        drv.cancel(venue_order_id=oid(drv.buy(1, 10)))
    # The first order has been forgotten: unknown, not too late.
    assert drv.cancel(venue_order_id=oid(first))[0].reason == Reason.UnknownOrder


# -- replace --------------------------------------------------------------------------------------


def test_size_down_at_the_same_price_keeps_priority(drv: Driver):
    a = oid(drv.sell(10, 100, acct=1))
    b = oid(drv.sell(10, 100, acct=2))
    r = drv.replace(a, 6)
    assert kinds(r) == ["OrderReplaced"]
    rep = r[0]
    assert rep.priority_kept and rep.qty == 6 and rep.leaves_qty == 6 and rep.exec_type == ExecType.Replaced
    taken = drv.buy(7, 100, acct=3)
    assert [(f.venue_order_id, f.last_qty) for f in fills(taken) if f.liquidity == Liquidity.MAKER] == [
        (a, 6),
        (b, 1),
    ]


def test_size_up_loses_priority(drv: Driver):
    a = oid(drv.sell(10, 100, acct=1))
    b = oid(drv.sell(10, 100, acct=2))
    assert not drv.replace(a, 12)[0].priority_kept
    taken = drv.buy(7, 100, acct=3)
    assert [f.venue_order_id for f in fills(taken) if f.liquidity == Liquidity.MAKER] == [b]


def test_price_change_loses_priority_even_back_and_forth(drv: Driver):
    a = oid(drv.sell(10, 100, acct=1))
    b = oid(drv.sell(10, 100, acct=2))
    drv.replace(a, 10, 101)
    r = drv.replace(a, 10, 100)
    assert not r[0].priority_kept and r[0].price == 100
    taken = drv.buy(12, 100, acct=3)
    assert [f.venue_order_id for f in fills(taken) if f.liquidity == Liquidity.MAKER] == [b, a]


def test_replace_into_the_spread_trades_as_taker(drv: Driver):
    s = oid(drv.sell(5, 101, acct=2))
    b = oid(drv.buy(8, 99))
    r = drv.replace(b, 8, 101)
    assert kinds(r) == ["OrderReplaced", "OrderFilled", "OrderFilled"]
    taker = fills(r, b)
    assert taker[0].liquidity == Liquidity.TAKER and taker[0].last_px == 101 and taker[0].leaves_qty == 3
    assert fills(r, s)[0].ord_status == OrdStatus.Filled
    [rest] = drv.engine.resting_orders()
    assert rest.venue_order_id == b and rest.price == 101 and rest.leaves_qty == 3


def test_replace_changes_the_client_id_used_by_later_requests(drv: Driver):
    a = drv.buy(5, 100)
    old_cl = a[0].cl_ord_id
    r = drv.replace(oid(a), 4, cl=777)
    assert r[0].cl_ord_id == 777 and r[0].orig_cl_ord_id == old_cl
    assert drv.cancel(orig=old_cl)[0].reason == Reason.UnknownOrder
    assert kinds(drv.cancel(orig=777)) == ["OrderCanceled"]


def test_replace_rejects(drv: Driver):
    s = oid(drv.sell(10, 100, acct=2))
    drv.buy(4, 100)  # s is now 4 filled
    r = drv.replace(s, 4, acct=2)
    assert isinstance(r[0], ReplaceRejected) and r[0].code == RejectCode.QTY_NOT_ABOVE_FILLED
    assert r[0].exec_type == ExecType.ReplaceRejected
    assert drv.replace(99999, 5)[0].reason == Reason.UnknownOrder
    p = oid(drv.buy(5, 90, post_only=True))
    r = drv.replace(p, 5, 100)  # would take s
    assert r[0].code == RejectCode.POST_ONLY_WOULD_TAKE
    assert drv.engine.order(p).price == 90  # unchanged
    filled = oid(drv.sell(1, 50, acct=3))
    drv.buy(1, 50, acct=4)
    assert drv.replace(filled, 2, acct=3)[0].reason == Reason.TooLateToCancel


def test_replace_keeps_the_filled_part(drv: Driver):
    s = oid(drv.sell(10, 100, acct=2))
    drv.buy(4, 100)
    r = drv.replace(s, 7, acct=2)  # total 7, 4 filled: 3 left, a size-down
    assert (r[0].qty, r[0].cum_qty, r[0].leaves_qty, r[0].priority_kept) == (7, 4, 3, True)
    assert r[0].ord_status == OrdStatus.PartiallyFilled


# -- self-trade prevention ------------------------------------------------------------------------


def test_stp_cancel_resting_cancels_own_order_and_keeps_matching(book_impl):
    drv = Driver(make_engine(book_impl, self_trade=SelfTradePolicy.CANCEL_RESTING))
    own = oid(drv.sell(5, 100, acct=1))
    other = oid(drv.sell(5, 100, acct=2))
    r = drv.buy(8, 100, acct=1)
    canceled = [x for x in r if isinstance(x, OrderCanceled)]
    assert [c.venue_order_id for c in canceled] == [own]
    assert canceled[0].reason == Reason.Other and "self-trade" in canceled[0].text
    assert [f.venue_order_id for f in fills(r) if f.liquidity == Liquidity.MAKER] == [other]
    assert all(f.contra_venue_order_id != own for f in fills(r))
    [rest] = drv.engine.resting_orders()
    assert rest.venue_order_id == oid(r) and rest.leaves_qty == 3


def test_stp_cancel_incoming(book_impl):
    drv = Driver(make_engine(book_impl, self_trade=SelfTradePolicy.CANCEL_INCOMING))
    other = oid(drv.sell(2, 99, acct=2))
    own = oid(drv.sell(5, 100, acct=1))
    r = drv.buy(8, 100, acct=1)
    assert [f.venue_order_id for f in fills(r) if f.liquidity == Liquidity.MAKER] == [other]
    assert isinstance(r[-1], OrderCanceled) and r[-1].venue_order_id == oid(r) and r[-1].cum_qty == 2
    [rest] = drv.engine.resting_orders()
    assert rest.venue_order_id == own and rest.leaves_qty == 5


def test_stp_cancel_both(book_impl):
    drv = Driver(make_engine(book_impl, self_trade=SelfTradePolicy.CANCEL_BOTH))
    own = oid(drv.sell(5, 100, acct=1))
    r = drv.buy(8, 100, acct=1)
    assert {x.venue_order_id for x in r if isinstance(x, OrderCanceled)} == {own, oid(r)}
    assert not fills(r) and not drv.engine.resting_orders()


def test_stp_by_strategy_lets_strategies_of_one_account_trade(book_impl):
    drv = Driver(make_engine(book_impl, self_trade_scope=SelfTradeScope.STRATEGY))
    drv.sell(5, 100, acct=1, strategy=1)
    r = drv.buy(5, 100, acct=1, strategy=2)
    assert len(fills(r)) == 2
    drv.sell(5, 100, acct=1, strategy=1)
    r = drv.buy(5, 100, acct=1, strategy=1)
    assert not fills(r) and any(isinstance(x, OrderCanceled) for x in r)


def test_fok_counts_only_what_stp_lets_it_take(book_impl):
    drv = Driver(make_engine(book_impl, self_trade=SelfTradePolicy.CANCEL_RESTING))
    drv.sell(5, 100, acct=1)
    drv.sell(3, 100, acct=2)
    r = drv.buy(6, 100, acct=1, tif=TimeInForce.FOK)  # only 3 from another owner
    assert kinds(r) == ["OrderAccepted", "OrderExpired"]
    assert len(drv.engine.resting_orders()) == 2  # the dry run canceled nothing


# -- validation -----------------------------------------------------------------------------------
ODD = Instrument(
    id=8,
    symbol="ODD",
    venue="sim",
    kind="spot",
    base="O",
    quote="USD",
    price_exponent=-2,
    qty_exponent=-1,
    tick_size=5,
    lot_size=10,
    min_qty=20,
    max_qty=1000,
)


@pytest.mark.parametrize(
    ("qty", "price", "ord_type", "post_only", "code"),
    [
        (20, 101, OrdType.Limit, False, RejectCode.PRICE_OFF_TICK),
        (20, 0, OrdType.Limit, False, RejectCode.PRICE_NOT_POSITIVE),
        (20, -5, OrdType.Limit, False, RejectCode.PRICE_NOT_POSITIVE),
        (20, None, OrdType.Limit, False, RejectCode.PRICE_MISSING),
        (20, 100, OrdType.Market, False, RejectCode.PRICE_ON_MARKET),
        (20, None, OrdType.Market, True, RejectCode.POST_ONLY_MARKET),
        (25, 100, OrdType.Limit, False, RejectCode.QTY_OFF_LOT),
        (10, 100, OrdType.Limit, False, RejectCode.QTY_BELOW_MIN),
        (1010, 100, OrdType.Limit, False, RejectCode.QTY_ABOVE_MAX),
        (0, 100, OrdType.Limit, False, RejectCode.QTY_NOT_POSITIVE),
    ],
)
def test_validation_rejects_with_reasons(book_impl, qty, price, ord_type, post_only, code):
    drv = Driver(make_engine(book_impl, ODD))
    r = drv.new(BUY, qty, price, ord_type=ord_type, post_only=post_only)
    assert kinds(r) == ["OrderRejected"]
    rej: OrderRejected = r[0]  # type: ignore[assignment]
    assert rej.code == code and rej.reason == Reason.InvalidOrder and rej.text
    assert rej.exec_type == ExecType.Rejected and rej.venue_order_id == 0
    assert not drv.engine.live_orders()


def test_valid_order_on_an_odd_instrument_is_accepted(book_impl):
    drv = Driver(make_engine(book_impl, ODD))
    assert kinds(drv.buy(30, 105)) == ["OrderAccepted"]


@pytest.mark.parametrize(
    ("qty", "price", "code"),
    [
        (30, 101, RejectCode.PRICE_OFF_TICK),
        (35, 105, RejectCode.QTY_OFF_LOT),
        (2000, 105, RejectCode.QTY_ABOVE_MAX),
    ],
)
def test_replace_is_validated_like_a_new_order(book_impl, qty, price, code):
    drv = Driver(make_engine(book_impl, ODD))
    o = oid(drv.buy(30, 105))
    r = drv.replace(o, qty, price)
    assert kinds(r) == ["ReplaceRejected"] and r[0].code == code and r[0].reason == Reason.InvalidOrder
    assert (drv.engine.order(o).qty, drv.engine.order(o).price) == (30, 105)


def test_an_unknown_side_value_is_rejected(drv: Driver):
    r = drv.new(Side(7), 5, 100)  # what an unknown wire value decodes to
    assert kinds(r) == ["OrderRejected"] and r[0].code == RejectCode.BAD_SIDE


def test_client_order_ids_are_per_account_and_strategy(drv: Driver):
    a = drv.buy(5, 100, cl=42, strategy=1)
    b = drv.buy(5, 99, cl=42, strategy=2)
    assert kinds(b) == ["OrderAccepted"]
    r = drv.engine.on_cancel(
        CancelRequest(instrument_id=INST.id, cl_ord_id=43, orig_cl_ord_id=42, account_id=1, strategy_id=2,
                      correlation_id=99),
        drv.t,
    )  # fmt: skip
    assert kinds(r) == ["OrderCanceled"] and r[0].venue_order_id == oid(b) and r[0].correlation_id == 99
    assert drv.engine.order(oid(a)).status == OrdStatus.New


def test_duplicate_client_order_id_of_a_working_order_is_rejected(drv: Driver):
    drv.buy(5, 100, cl=42)
    r = drv.buy(5, 99, cl=42)
    assert r[0].reason == Reason.DuplicateClOrdId
    assert kinds(drv.buy(5, 99, cl=42, acct=2)) == ["OrderAccepted"]  # ids are per account


def test_engine_refuses_requests_for_another_instrument(drv: Driver):
    with pytest.raises(ValueError, match="route by instrument"):
        drv.buy(5, 100, instrument_id=999)


# -- fees -----------------------------------------------------------------------------------------


def test_fees_are_exact_maker_and_taker_bps(book_impl):
    drv = Driver(make_engine(book_impl, maker_fee_bps=Decimal("-0.25"), taker_fee_bps=Decimal("7.5")))
    drv.sell(3, 12345, acct=2)  # 3 at 123.45
    r = drv.buy(3, 12345)
    maker, taker = fills(r)
    # notional 370.35; taker 7.5 bp = 0.27776250; maker rebate -0.25 bp = -0.0092587500
    assert taker.fee == Decimal("0.27776250")
    assert maker.fee == Decimal("-0.0092587500")
    assert isinstance(taker.fee, Decimal)


def test_inverse_contract_fee_is_in_base_currency(book_impl):
    perp = Instrument(
        id=9,
        symbol="PERP",
        venue="sim",
        kind="perpetual",
        base="BTC",
        quote="USD",
        price_exponent=-1,
        qty_exponent=0,
        multiplier=Decimal(100),
        inverse=True,
        tick_size=5,
    )
    drv = Driver(make_engine(book_impl, perp, taker_fee_bps=Decimal("5")))
    drv.sell(10, 500000, acct=2)  # 10 contracts at 50000.0
    taker = fills(drv.buy(10, 500000))[-1]
    # 10 x 100 USD / 50000 = 0.02 BTC; 5 bp of it = 0.00001 BTC
    assert taker.fee == Decimal("0.00001")


def test_accepted_report_echoes_the_request(drv: Driver):
    r = drv.new(SELL, 7, 123, acct=5, strategy=6, tif=TimeInForce.Day, post_only=True, cl=31)
    ack = r[0]
    assert isinstance(ack, OrderAccepted)
    assert (ack.account_id, ack.strategy_id, ack.client_id, ack.cl_ord_id) == (5, 6, 5, 31)
    assert (ack.side, ack.ord_type, ack.tif, ack.post_only) == (SELL, OrdType.Limit, TimeInForce.Day, True)
    assert ack.instrument_id == drv.engine.instrument.id


def test_cancel_and_replace_reports_are_their_own_kinds():
    assert OrderCanceled.exec_type == ExecType.Canceled
    assert OrderReplaced.exec_type == ExecType.Replaced
    assert OrderFilled.exec_type == ExecType.Trade


def test_fees_stay_exact_beyond_the_decimal_context_precision(book_impl):
    huge = Instrument(
        id=10, symbol="HUGE", venue="sim", kind="spot", base="H", quote="USD", price_exponent=-9,
        qty_exponent=-9, max_qty=2**62,
    )  # fmt: skip
    drv = Driver(make_engine(book_impl, huge, taker_fee_bps=Decimal("3.3333")))
    px, qty = 123_456_789_123_456_789, 987_654_321_987_654_321
    drv.sell(qty, px, acct=2)
    taker = fills(drv.buy(qty, px))[-1]
    # 36 significant digits of notional times the rate: more than a default Decimal context holds.
    exact = Decimal(f"{px * qty * 33333}e-26")  # the string constructor never rounds
    assert taker.fee == exact and len(taker.fee.as_tuple().digits) > 28
