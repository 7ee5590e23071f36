"""PnL as the engine publishes it: PositionUpdate and AccountState, fees, inverse contracts in the desk
currency."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from core.codec.messages import Decimal64, PositionUpdate, Side, TimeInForce
from core.oms.fees import FeeSchedule
from core.oms.money import from_decimal64
from core.sim.config import load_venues
from tests.core.oms.harness import BTC, PERP, SEC, SIM, Desk, check_ledger, config

MID = 6_000_000


def dec(d) -> Decimal:
    return from_decimal64(d.mantissa, d.exponent)


def fill(
    d: Desk, cl: int, inst: int, side: Side, qty: int, px: int, *, tif=TimeInForce.GTC, ack=True, **kw
) -> None:
    d.order(1, cl, inst, side, qty, px, tif=tif)
    oid = d.last_order_id()
    if ack:
        d.ack(oid)
    d.fill(oid, qty, px, **kw)


def test_fees_from_the_report_win_over_the_schedule():
    d = Desk(config(), fees=FeeSchedule({SIM: (Decimal("1"), Decimal("5"))}))
    d.book(BTC, MID - 50, MID + 50)
    fill(d, 1, BTC, Side.Buy, 10_000, MID, fee=Decimal64(123, -2))  # the venue charged 1.23
    assert d.engine.ledger.positions[("s", 1, BTC)].fees == Fraction(123, 100)


def test_scheduled_fees_maker_when_resting_taker_when_taking():
    # the shipped venues.toml: sim maker 1 bp, taker 5 bp
    sim = load_venues().get("sim").sim
    d = Desk(config(), fees=FeeSchedule({SIM: (sim.maker_fee_bps, sim.taker_fee_bps)}))
    d.book(BTC, MID - 50, MID + 50)
    fill(d, 1, BTC, Side.Buy, 10_000, MID)  # acked then filled: it rested, maker: 60000 x 1 bp = 6
    fill(d, 2, BTC, Side.Sell, 10_000, MID, tif=TimeInForce.IOC)  # IOC: taker, 30
    fill(d, 3, BTC, Side.Buy, 10_000, MID, ack=False)  # filled before any ack: it took, taker, 30
    p = d.engine.ledger.positions[("s", 1, BTC)]
    assert p.fees == 6 + 30 + 30
    assert d.engine.day.daily(d.engine.ledger.desk_total) == -66  # fees count in the day's PnL


def test_position_update_carries_exact_avg_realized_and_unrealized():
    d = Desk(config())
    d.book(BTC, MID - 50, MID + 50)
    fill(d, 1, BTC, Side.Buy, 10_000, MID)
    fill(d, 2, BTC, Side.Buy, 20_000, MID + 50_000)  # 2 @ 60500
    mark = len(d.out)
    fill(d, 3, BTC, Side.Sell, 15_000, MID + 100_000)  # 1.5 @ 61000 against avg 60333.33..
    updates = [m for m in d.since(mark, "position_update") if isinstance(m, PositionUpdate)]
    strat = next(u for u in updates if u.strategyId == 1)
    assert strat.netQty == 15_000
    assert dec(strat.realizedPnl) == Decimal("1000.000000000000000")  # 1.5 x 666.66.. exactly 1000
    assert dec(strat.avgPx) == Decimal("60333.33333333333333")  # rounded half-even to fit int64
    assert dec(strat.unrealizedPnl) == Decimal("-500")  # 1.5 x (60000 - 60333.33..)


def test_inverse_pnl_is_converted_to_the_desk_currency_at_the_mark():
    d = Desk(config())
    d.book(PERP, 499_995, 500_005)  # 50000.0
    fill(d, 1, PERP, Side.Buy, 10, 500_000)  # 1000 USD of contracts at 50000
    d.book(PERP, 999_995, 1_000_005)  # 100000.0: +0.01 BTC = 1000 USD
    p = d.engine.ledger.positions[("s", 1, PERP)]
    assert p.unrealized() == Fraction(1, 100)
    assert d.engine.ledger.desk_total == 1000
    d.tick(SEC)
    [acct] = [m for m in d.since(0, "account_state")][-1:]
    assert dec(acct.unrealizedPnl) == 1000 and dec(acct.dailyPnl) == 1000
    assert dec(acct.grossExposure) == 1000  # 10 contracts x 100 USD


def test_account_state_sums_strategies_of_the_account():
    d = Desk(config(strategies={1: {"account_id": 1}, 2: {"account_id": 1}, 3: {"account_id": 2}}))
    d.book(BTC, MID - 50, MID + 50)
    for s, side in ((1, Side.Buy), (2, Side.Buy), (3, Side.Sell)):
        d.order(s, 1, BTC, side, 10_000, MID)
        oid = d.last_order_id()
        d.ack(oid)
        d.fill(oid, 10_000, MID)
    d.book(BTC, MID + 9_950, MID + 10_050)  # +100 per BTC
    d.tick(SEC)
    states = {m.accountId: m for m in d.since(0, "account_state")}
    assert dec(states[1].unrealizedPnl) == 200 and dec(states[2].unrealizedPnl) == -100
    assert dec(states[1].netExposure) == 2 * 60_100 and dec(states[2].netExposure) == -60_100


def test_a_flat_position_keeps_its_realized_pnl_as_the_mark_moves_unless_the_mark_prices_its_currency():
    d = Desk(config())
    d.book(BTC, MID - 50, MID + 50)
    d.book(PERP, 499_995, 500_005)
    fill(d, 1, BTC, Side.Buy, 10_000, MID)
    fill(d, 2, BTC, Side.Sell, 10_000, MID + 10_000)  # flat, +100 USD realized
    fill(d, 3, PERP, Side.Buy, 10, 500_000)
    fill(d, 4, PERP, Side.Sell, 10, 1_000_000)  # flat, +0.01 BTC realized
    led = d.engine.ledger
    btc, perp = ("s", 1, BTC), ("s", 1, PERP)
    assert led.pnl_desk[btc] == 100 and led.pnl_desk[perp] == 500  # 0.01 BTC at the 50000 mark
    for step in range(1, 4):
        d.book(BTC, MID - 50 + 1_000 * step, MID + 50 + 1_000 * step)
        d.book(PERP, 499_995 + 100_000 * step, 500_005 + 100_000 * step)
        check_ledger(d.engine)
    assert led.pnl_desk[btc] == 100  # the quote currency is the desk's: nothing to revalue
    assert led.pnl_desk[perp] == 800  # 0.01 BTC, now marked at 80000
    assert led.desk_total == 900
