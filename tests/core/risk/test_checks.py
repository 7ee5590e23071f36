"""Pre-trade risk against an in-process oms: one scenario per check, built to trip it.

Every refused order must come back as an ExecutionReport Rejected with the check's reason code, and a
RiskEvent CheckFired naming the same reason with what was measured and the limit; the order just
inside the limit must pass, so each test shows the boundary, not just a refusal.
"""

from __future__ import annotations

from decimal import Decimal

from core.codec.messages import (
    AckStatus,
    ExecType,
    KillAction,
    OrdStatus,
    Reason,
    RiskEventType,
    Side,
    TimeInForce,
)
from core.oms.money import from_decimal64
from tests.core.oms.harness import BINANCE, BTC, ETH, MS, PERP, SEC, Desk, config

# BTC-USD: price 1e-2, qty 1e-4. Bid 59999.50 / ask 60000.50: mid 60000.00.
BID, ASK, MID = 5_999_950, 6_000_050, 6_000_000
ONE_BTC = 10_000


def dec(d) -> Decimal:
    return from_decimal64(d.mantissa, d.exponent)


def refused(desk: Desk, mark: int, reason: Reason):
    """The single reject report and CheckFired event produced since mark, checked against reason."""
    reports = desk.reports(mark)
    assert [r.execType for r in reports] == [ExecType.Rejected], reports
    assert reports[0].ordStatus == OrdStatus.Rejected and reports[0].reason == reason, reports[0]
    assert reports[0].orderId == 0
    assert desk.venue_orders(mark) == []
    events = [e for e in desk.risk_events(mark) if e.eventType == RiskEventType.CheckFired]
    assert len(events) == 1 and events[0].reason == reason, events
    assert events[0].clOrdId == reports[0].clOrdId
    return reports[0], events[0]


def accepted(desk: Desk, mark: int):
    reports = desk.reports(mark)
    assert [r.execType for r in reports] == [ExecType.PendingNew], reports
    assert len(desk.venue_orders(mark)) == 1
    return reports[0]


def test_max_order_qty():
    desk = Desk(config(instruments={BTC: {"max_order_qty": "1.5"}}))
    desk.book(BTC, BID, ASK)
    mark = desk.order(1, 1, BTC, Side.Buy, 15_001, MID)
    _, ev = refused(desk, mark, Reason.MaxOrderQty)
    assert dec(ev.value) == Decimal("1.5001") and dec(ev.limit) == Decimal("1.5")
    accepted(desk, desk.order(1, 2, BTC, Side.Buy, 15_000, MID))


def test_max_order_notional_linear_at_the_limit_price_and_market_at_the_mid():
    desk = Desk(config({"max_order_notional": "90000"}))
    desk.book(BTC, BID, ASK)
    mark = desk.order(1, 1, BTC, Side.Buy, 15_001, MID)  # 1.5001 x 60000 = 90006
    _, ev = refused(desk, mark, Reason.MaxOrderNotional)
    assert dec(ev.value) == Decimal("90006") and dec(ev.limit) == Decimal("90000")
    accepted(desk, desk.order(1, 2, BTC, Side.Buy, 15_000, MID))
    refused(
        desk, desk.order(1, 3, BTC, Side.Sell, 15_001, None), Reason.MaxOrderNotional
    )  # market: at the mid
    accepted(desk, desk.order(1, 4, BTC, Side.Sell, 15_000, None))


def test_max_order_notional_inverse_counts_contracts_not_price():
    desk = Desk(config({"max_order_notional": "100000"}))
    desk.book(PERP, 600_000, 600_010)
    mark = desk.order(1, 1, PERP, Side.Buy, 1_001, 600_000)  # 1001 contracts x 100 USD
    _, ev = refused(desk, mark, Reason.MaxOrderNotional)
    assert dec(ev.value) == Decimal("100100")
    accepted(desk, desk.order(1, 2, PERP, Side.Buy, 1_000, 600_000))


def test_max_position_counts_working_orders_on_the_same_side():
    desk = Desk(config(instruments={BTC: {"max_position": "1"}}))
    desk.book(BTC, BID, ASK)
    accepted(desk, desk.order(1, 1, BTC, Side.Buy, 6_000, MID - 100))
    desk.ack(desk.last_order_id())
    mark = desk.order(1, 2, BTC, Side.Buy, 5_000, MID - 100)  # 0.6 working + 0.5 = 1.1
    _, ev = refused(desk, mark, Reason.MaxPosition)
    assert dec(ev.value) == Decimal("1.1") and dec(ev.limit) == Decimal("1")
    accepted(desk, desk.order(1, 3, BTC, Side.Buy, 4_000, MID - 100))  # exactly 1.0
    accepted(desk, desk.order(1, 4, BTC, Side.Sell, 10_000, MID + 100))  # the other side: -1.0
    # another strategy has its own position limit
    accepted(desk, desk.order(2, 1, BTC, Side.Buy, 10_000, MID - 100))


def test_max_gross_exposure_across_strategies_and_reducing_orders_pass():
    desk = Desk(config({"max_gross_exposure": "100000"}))
    desk.book(BTC, BID, ASK)
    desk.book(ETH, 299_950, 300_050)  # ETH mid 3000.00, qty 1e-3
    accepted(desk, desk.order(1, 1, BTC, Side.Buy, ONE_BTC, MID))
    oid = desk.last_order_id()
    desk.ack(oid)
    desk.fill(oid, ONE_BTC, MID)  # strategy 1 holds 1 BTC: 60000 of exposure
    mark = desk.order(2, 1, ETH, Side.Buy, 14_000, 300_000)  # strategy 2: 14 ETH = 42000 -> 102000
    _, ev = refused(desk, mark, Reason.MaxGrossExposure)
    assert dec(ev.value) == Decimal("102000") and dec(ev.limit) == Decimal("100000")
    accepted(desk, desk.order(2, 2, ETH, Side.Buy, 13_000, 300_000))  # 39000 -> 99000
    # A sale of BTC lowers the desk's exposure: it passes although the desk is near its limit.
    accepted(desk, desk.order(1, 2, BTC, Side.Sell, 5_000, MID))


def test_price_band_against_the_mid():
    desk = Desk(config({"price_band_bps": "100"}))
    desk.book(BTC, BID, ASK)
    mark = desk.order(1, 1, BTC, Side.Buy, 1_000, 6_060_100)  # 60601 is 100.17 bp over 60000
    _, ev = refused(desk, mark, Reason.PriceBand)
    assert dec(ev.value) == Decimal("100.17") and dec(ev.limit) == Decimal("100")
    accepted(desk, desk.order(1, 2, BTC, Side.Buy, 1_000, 6_060_000))  # exactly 100 bp
    refused(desk, desk.order(1, 3, BTC, Side.Sell, 1_000, 5_939_900), Reason.PriceBand)
    accepted(desk, desk.order(1, 4, BTC, Side.Sell, 1_000, 5_940_000))


def test_no_reference_price_refuses_unless_the_limit_allows_it():
    desk = Desk(config({"price_band_bps": "100"}))
    refused(desk, desk.order(1, 1, BTC, Side.Buy, 1_000, MID), Reason.NoReferencePrice)
    desk.set_limit("allow_no_reference", "1")
    accepted(desk, desk.order(1, 2, BTC, Side.Buy, 1_000, MID))
    refused(desk, desk.order(1, 3, BTC, Side.Buy, 1_000, None), Reason.NoReferencePrice)  # market: never


def test_order_rate_sliding_window_on_the_engine_clock():
    desk = Desk(config({"order_rate": 3, "order_rate_window_ms": 1000}))
    desk.book(BTC, BID, ASK)
    for cl in (1, 2, 3):
        accepted(desk, desk.order(1, cl, BTC, Side.Buy, 100, MID - 100, dt=100 * MS))
    _, ev = refused(desk, desk.order(1, 4, BTC, Side.Buy, 100, MID - 100, dt=100 * MS), Reason.OrderRate)
    assert dec(ev.value) == 4 and dec(ev.limit) == 3
    accepted(desk, desk.order(2, 1, BTC, Side.Buy, 100, MID - 100))  # per strategy
    # the first order was 1000 ms ago now: it leaves the window
    accepted(desk, desk.order(1, 5, BTC, Side.Buy, 100, MID - 100, dt=699 * MS))


def test_max_open_orders():
    desk = Desk(config({"max_open_orders": 2}))
    desk.book(BTC, BID, ASK)
    accepted(desk, desk.order(1, 1, BTC, Side.Buy, 100, MID - 100))
    first = desk.last_order_id()
    accepted(desk, desk.order(1, 2, BTC, Side.Buy, 100, MID - 200))
    refused(desk, desk.order(1, 3, BTC, Side.Buy, 100, MID - 300), Reason.MaxOpenOrders)
    desk.ack(first)
    desk.canceled(first)
    accepted(desk, desk.order(1, 4, BTC, Side.Buy, 100, MID - 300))


def _long_one_btc(desk: Desk, strategy: int = 1, cl: int = 1) -> None:
    accepted(desk, desk.order(strategy, cl, BTC, Side.Buy, ONE_BTC, MID))
    oid = desk.last_order_id()
    desk.ack(oid)
    desk.fill(oid, ONE_BTC, MID)


def test_daily_loss_engages_the_kill_switch_then_only_reducing_orders_pass():
    desk = Desk(config({"daily_loss": "100"}))
    desk.book(BTC, BID, ASK)
    _long_one_btc(desk)
    mark = len(desk.out)
    desk.book(BTC, 5_989_950, 5_990_050)  # mid 59900: 1 BTC lost 100
    events = desk.risk_events(mark)
    fired = [e for e in events if e.eventType == RiskEventType.CheckFired]
    assert [e.reason for e in fired] == [Reason.DailyLoss]
    assert dec(fired[0].value) == 100 and dec(fired[0].limit) == 100
    kill = [e for e in events if e.eventType == RiskEventType.KillEngaged]
    assert len(kill) == 1 and kill[0].reason == Reason.DailyLoss and kill[0].operator.user == "oms"
    assert desk.engine.kill.engaged
    refused(desk, desk.order(1, 2, BTC, Side.Buy, 100, 5_990_000), Reason.KillSwitch)
    desk.kill(KillAction.Release, "reviewed")
    refused(desk, desk.order(1, 3, BTC, Side.Buy, 100, 5_990_000), Reason.DailyLoss)
    accepted(desk, desk.order(1, 4, BTC, Side.Sell, 5_000, 5_990_000))  # reduces the long


def test_strategy_daily_loss_stops_only_that_strategy():
    desk = Desk(config(strategies={1: {"daily_loss": "50"}}))
    desk.book(BTC, BID, ASK)
    _long_one_btc(desk)
    mark = len(desk.out)
    desk.book(BTC, 5_993_950, 5_994_050)  # mid 59940: -60
    fired = [e for e in desk.risk_events(mark) if e.eventType == RiskEventType.CheckFired]
    assert [(e.reason, e.strategyId) for e in fired] == [(Reason.DailyLoss, 1)]
    assert not desk.engine.kill.engaged
    refused(desk, desk.order(1, 2, BTC, Side.Buy, 100, 5_994_000), Reason.DailyLoss)
    accepted(desk, desk.order(2, 1, BTC, Side.Buy, 100, 5_994_000))
    accepted(desk, desk.order(1, 3, BTC, Side.Sell, 100, 5_994_000))


def _swing(desk: Desk, swings: int, step: int) -> None:
    """Mid moves of +/- step ticks (in 0.01 USD), 10 ms apart."""
    for k in range(swings):
        off = step if k % 2 == 0 else 0
        desk.book(BTC, BID + off, ASK + off, dt=10 * MS)


def test_volatility_throttle_tightens_qty_and_band_while_the_mid_is_volatile():
    desk = Desk(
        config(
            {
                "price_band_bps": "200",
                "vol_threshold_bps": "50",
                "vol_window_ms": 1000,
                "vol_qty_factor": "0.5",
                "vol_band_factor": "0.5",
            },
            instruments={BTC: {"max_order_qty": "2"}},
        )
    )
    desk.book(BTC, BID, ASK)
    accepted(desk, desk.order(1, 1, BTC, Side.Buy, 15_000, MID))  # calm: 1.5 BTC under max 2
    accepted(desk, desk.order(1, 2, BTC, Side.Buy, 1_000, 5_910_000))  # calm: 150 bp under the 200 band
    _swing(desk, 4, 18_000)  # mid moves of 180 USD (30 bp) x 4: sqrt(4 x 30^2) = 60 bp >= 50
    assert desk.engine.risk.throttled(BTC, desk.now)
    _, ev = refused(desk, desk.order(1, 3, BTC, Side.Buy, 15_000, MID), Reason.VolatilityThrottle)
    assert dec(ev.limit) == 1  # max_order_qty x 0.5
    accepted(desk, desk.order(1, 4, BTC, Side.Buy, 10_000, MID))
    mid = desk.engine.risk.mid2[BTC] // 2
    refused(
        desk, desk.order(1, 5, BTC, Side.Buy, 1_000, mid - mid // 66), Reason.VolatilityThrottle
    )  # ~150 bp
    accepted(desk, desk.order(1, 6, BTC, Side.Buy, 1_000, mid - mid // 125))  # ~80 bp, under 200 x 0.5
    # the window passes with no moves: calm again
    desk.tick(1100 * MS)
    assert not desk.engine.risk.throttled(BTC, desk.now)
    accepted(desk, desk.order(1, 7, BTC, Side.Buy, 15_000, mid))


def test_kill_switch_check_refuses_new_exposure():
    desk = Desk(config())
    desk.book(BTC, BID, ASK)
    desk.kill()
    refused(desk, desk.order(1, 1, BTC, Side.Buy, 100, MID, tif=TimeInForce.IOC), Reason.KillSwitch)


def test_manual_orders_take_the_same_checks_and_get_a_control_ack():
    desk = Desk(config(instruments={BTC: {"max_order_qty": "1"}}, manual_strategy_id=99))
    desk.book(BTC, BID, ASK)
    mark = desk.order(0, 1, BTC, Side.Buy, 20_000, MID, flags=4, client=33)
    report, ev = refused(desk, mark, Reason.MaxOrderQty)
    assert report.strategyId == 99 and ev.operator.user == "trader" and ev.operator.tool == "tui"
    [ack] = desk.acks(mark)
    assert ack.status == AckStatus.Refused and ack.reason == Reason.MaxOrderQty and ack.clientId == 33
    mark = desk.order(0, 2, BTC, Side.Buy, 10_000, MID, flags=4, client=33)
    assert accepted(desk, mark).strategyId == 99
    assert [a.status for a in desk.acks(mark)] == [AckStatus.Accepted]


def test_invalid_orders_are_refused_with_their_reason():
    desk = Desk(config())
    desk.book(BTC, BID, ASK)
    refused(desk, desk.order(1, 1, 777, Side.Buy, 100, MID), Reason.UnknownInstrument)
    refused(desk, desk.order(1, 2, BTC, Side.Buy, 0, MID), Reason.InvalidOrder)
    refused(desk, desk.order(1, 3, PERP, Side.Buy, 1, 600_002), Reason.InvalidOrder)  # tick 5
    accepted(desk, desk.order(1, 4, BTC, Side.Buy, 100, MID))
    refused(desk, desk.order(1, 4, BTC, Side.Buy, 100, MID), Reason.DuplicateClOrdId)
    accepted(desk, desk.order(2, 4, BTC, Side.Buy, 100, MID))  # unique per strategy only
    # reduce-only while flat
    refused(desk, desk.order(1, 5, BTC, Side.Sell, 100, MID, flags=2), Reason.InvalidOrder)
    # BTC-USD trades at the sim venue only
    _, ev = refused(desk, desk.order(1, 6, BTC, Side.Buy, 100, MID, venue=BINANCE), Reason.InvalidOrder)
    assert "trades at venue 1" in ev.text
    refused(desk, desk.order(1, 7, BTC, Side.Buy, 100, None, flags=1), Reason.InvalidOrder)  # post-only mkt


def test_a_refused_check_counts_by_name_and_changes_nothing():
    desk = Desk(config({"max_order_notional": "1000"}))
    desk.book(BTC, BID, ASK)
    refused(desk, desk.order(1, 1, BTC, Side.Buy, ONE_BTC, MID), Reason.MaxOrderNotional)
    e = desk.engine
    assert e.risk.fired == {"max_order_notional": 1}
    assert e.working_count == 0 and e.orders == {} and e.exposure.gross == 0
    assert e.next_order_id == 1  # order ids go to accepted orders only


def test_limits_are_resolved_most_specific_first():
    desk = Desk(
        config(
            {"max_order_qty": "3"},
            strategies={1: {"max_order_qty": "2"}},
            instruments={BTC: {"max_order_qty": "1"}},
        )
    )
    desk.engine.limits.set("max_order_qty", 1, BTC, Decimal("0.5"))
    desk.book(BTC, BID, ASK)
    desk.book(ETH, 299_950, 300_050)
    refused(desk, desk.order(1, 1, BTC, Side.Buy, 5_001, MID), Reason.MaxOrderQty)  # (1, BTC): 0.5
    refused(desk, desk.order(2, 1, BTC, Side.Buy, 10_001, MID), Reason.MaxOrderQty)  # (any, BTC): 1
    refused(desk, desk.order(1, 2, ETH, Side.Buy, 2_001, 300_000), Reason.MaxOrderQty)  # (1, any): 2
    refused(desk, desk.order(2, 2, ETH, Side.Buy, 3_001, 300_000), Reason.MaxOrderQty)  # desk: 3
    accepted(desk, desk.order(2, 3, ETH, Side.Buy, 3_000, 300_000))


def test_the_window_of_the_rate_throttle_uses_input_time_not_wall_time():
    desk = Desk(config({"order_rate": 1, "order_rate_window_ms": 1000}))
    desk.book(BTC, BID, ASK)
    accepted(desk, desk.order(1, 1, BTC, Side.Buy, 100, MID - 100))
    refused(desk, desk.order(1, 2, BTC, Side.Buy, 100, MID - 100, dt=999 * MS), Reason.OrderRate)
    accepted(desk, desk.order(1, 3, BTC, Side.Buy, 100, MID - 100, dt=1 * SEC))
