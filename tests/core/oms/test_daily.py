"""The daily PnL rolls at the configured UTC time of day; each day's result is kept; replay restores it."""

from __future__ import annotations

from core.codec.messages import RiskEventType, Side
from core.oms.daily import DAY_NS, day_start
from core.oms.money import from_decimal64
from tests.core.oms.harness import BTC, MS, Desk, config
from tests.core.oms.test_wal import replayed

HOUR = 3600 * 10**9
MIDNIGHT = 1_700_006_400 * 10**9  # 2023-11-15 00:00 UTC
ROLL = 21 * HOUR + 30 * 60 * 10**9  # 21:30 UTC
MID = 6_000_000


def test_day_start_is_the_last_roll_at_or_before():
    assert day_start(MIDNIGHT + ROLL, ROLL) == MIDNIGHT + ROLL
    assert day_start(MIDNIGHT + ROLL - 1, ROLL) == MIDNIGHT + ROLL - DAY_NS
    assert day_start(MIDNIGHT + ROLL + 5 * HOUR, ROLL) == MIDNIGHT + ROLL


def trade(d: Desk, cl: int, side: Side, qty: int, px: int) -> None:
    d.order(1, cl, BTC, side, qty, px)
    oid = d.last_order_id()
    d.ack(oid)
    d.fill(oid, qty, px)


def test_the_daily_pnl_rolls_at_the_configured_time_and_keeps_the_day():
    d = Desk(config({"daily_loss": "1000"}, daily_roll_ns=ROLL), start=MIDNIGHT + ROLL - 2 * HOUR)
    d.book(BTC, MID - 50, MID + 50)
    trade(d, 1, Side.Buy, 10_000, MID)  # 1 BTC at 60000
    trade(d, 2, Side.Sell, 10_000, MID + 30_000)  # sold at 60300: +300 realized
    trade(d, 3, Side.Buy, 10_000, MID)  # long 1 again
    d.book(BTC, MID - 10_050, MID - 9_950)  # mid 59900: -100 unrealized
    assert d.engine.day.daily(d.engine.ledger.desk_total) == 200
    mark = len(d.out)
    d.tick(2 * HOUR)  # crosses 21:30
    [rolled] = [e for e in d.risk_events(mark) if e.eventType == RiskEventType.DailyLossRolled]
    assert from_decimal64(*rolled.value) == 200 and from_decimal64(*rolled.limit) == 1000
    assert rolled.ts == MIDNIGHT + ROLL  # at the roll time, not the tick's
    [day] = d.engine.day.history
    assert (day.start_ts, day.end_ts, day.pnl, day.realized) == (
        MIDNIGHT + ROLL - DAY_NS,
        MIDNIGHT + ROLL,
        200,
        300,
    )
    assert d.engine.day.daily(d.engine.ledger.desk_total) == 0  # a new day starts at zero
    d.book(BTC, MID - 20_050, MID - 19_950)  # mid 59800: another -100 today
    assert d.engine.day.daily(d.engine.ledger.desk_total) == -100
    engine, _ = replayed(d)
    assert engine.day.history == d.engine.day.history
    assert engine.day.daily(engine.ledger.desk_total) == -100


def test_a_loss_carried_from_yesterday_does_not_count_today():
    d = Desk(config({"daily_loss": "150"}, daily_roll_ns=0), start=MIDNIGHT - HOUR)
    d.book(BTC, MID - 50, MID + 50)
    trade(d, 1, Side.Buy, 10_000, MID)
    d.book(BTC, MID - 10_050, MID - 9_950)  # -100 yesterday
    d.tick(2 * HOUR)  # midnight passes
    d.book(BTC, MID - 20_050, MID - 19_950)  # -100 today (-200 over both days)
    assert not d.engine.kill.engaged  # today's loss is 100, under 150
    d.book(BTC, MID - 25_050, MID - 24_950)  # -150 today
    assert d.engine.kill.engaged


def test_quiet_days_are_rolled_one_by_one_when_time_jumps():
    d = Desk(config(daily_roll_ns=0), start=MIDNIGHT - MS)
    d.book(BTC, MID - 50, MID + 50)  # at midnight: the day starts here
    d.tick(3 * DAY_NS)
    starts = [(day.start_ts, day.end_ts, day.pnl) for day in d.engine.day.history]
    assert starts == [(MIDNIGHT + k * DAY_NS, MIDNIGHT + (k + 1) * DAY_NS, 0) for k in range(3)]
    assert d.engine.day.start_ts == MIDNIGHT + 3 * DAY_NS and d.engine.day.next_roll > d.now
