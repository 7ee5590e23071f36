"""Position and PnL math: netting, average price, realized and unrealized PnL, exact to the last digit.

Expected values are worked out by hand in the comments, in plain units; the mantissas follow from
the instruments' exponents (BTC-USD px 1e-2 qty 1e-4; BTC-PERP inverse, px 1e-1, 100 USD contracts).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.instruments import Instrument
from core.oms.money import decimal64, to_decimal
from core.oms.positions import Position
from tests.core.oms.harness import CATALOG

CAT = CATALOG
BTC = CAT.by_id(1)
PERP = CAT.by_id(3)
LOT = Instrument(
    id=900,
    symbol="ES",
    venue="x",
    kind="future",
    base="ES",
    quote="USD",
    price_exponent=-2,
    qty_exponent=0,
    multiplier=Decimal(50),
)


def usd(text: str) -> Fraction:
    return Fraction(Decimal(text))


def test_average_price_of_two_buys_is_exact():
    p = Position(BTC)
    p.apply_fill(10_000, 10_000_000)  # buy 1 @ 100000.00
    p.apply_fill(20_000, 10_050_000)  # buy 2 @ 100500.00
    # avg = (100000 + 201000) / 3 = 100333.333... (mantissa 10033333.33...)
    assert p.avg_price() == Fraction(30_100_000, 3)
    assert p.net == 30_000


def test_partial_close_realizes_against_the_average_and_keeps_it():
    p = Position(BTC)
    p.apply_fill(10_000, 10_000_000)
    p.apply_fill(20_000, 10_050_000)
    realized = p.apply_fill(-10_000, 10_100_000)  # sell 1 @ 101000: 101000 - 100333.33.. = 666.66..
    assert realized == Fraction(2000, 3)
    assert p.net == 20_000 and p.avg_price() == Fraction(30_100_000, 3)  # average unchanged by a reduction
    p.apply_fill(-20_000, 10_100_000)  # the other 2: 1333.33..
    assert p.realized == 2000  # total: sold 3 for 303000, bought for 301000
    assert p.net == 0 and p.cost == 0 and p.avg_price() is None


def test_flip_through_zero_closes_then_opens_at_the_fill_price():
    p = Position(BTC)
    p.apply_fill(10_000, 6_000_000)  # long 1 @ 60000
    realized = p.apply_fill(-30_000, 6_100_000)  # sell 3 @ 61000: close 1 (+1000), open short 2 @ 61000
    assert realized == 1000
    assert p.net == -20_000 and p.avg_price() == 6_100_000
    assert p.unrealized(6_000_000) == 2000  # short 2 from 61000 marked at 60000
    assert p.apply_fill(20_000, 6_050_000) == 1000  # cover 2 @ 60500
    assert p.realized == 2000 and p.net == 0


def test_short_unrealized_and_mark_at_a_half_tick_mid():
    p = Position(BTC)
    p.apply_fill(-5_000, 6_000_000)  # short 0.5 @ 60000
    assert p.unrealized(Fraction(12_000_101, 2)) == usd("-0.2525")  # mid 60000.505: -0.505 x 0.5


def test_contract_multiplier():
    p = Position(LOT)
    p.apply_fill(3, 500_000)  # 3 contracts @ 5000.00, 50 USD a point
    assert p.unrealized(500_125) == 3 * Decimal("1.25") * 50
    assert p.apply_fill(-1, 499_000) == -50 * 10  # one closed 10 points lower


def test_inverse_contract_pnl_is_in_the_base_currency():
    p = Position(PERP)
    p.apply_fill(10, 500_000)  # long 10 x 100 USD @ 50000.0
    # at 100000.0: 1000 USD x (1/50000 - 1/100000) = 0.01 BTC
    assert p.unrealized(1_000_000) == usd("0.01")
    assert p.apply_fill(-4, 400_000) == 400 * (Fraction(1, 50_000) - Fraction(1, 40_000))  # -0.002 BTC
    assert p.net == 6 and p.avg_price() == 500_000


def test_inverse_average_entry_is_the_harmonic_mean():
    p = Position(PERP)
    p.apply_fill(1, 400_000)  # 40000
    p.apply_fill(1, 600_000)  # 60000
    # 2 contracts worth 200 USD cost 100/40000 + 100/60000 BTC: average entry 2 / (1/40000 + 1/60000) = 48000
    assert p.avg_price() == 480_000
    short = Position(PERP)
    short.apply_fill(-3, 500_000)
    assert short.unrealized(400_000) == 300 * (
        Fraction(1, 40_000) - Fraction(1, 50_000)
    )  # price fell: a gain
    assert short.unrealized(625_000) == 300 * (Fraction(1, 62_500) - Fraction(1, 50_000))  # rose: -0.0012


def test_inverse_fill_at_zero_price_is_refused():
    with pytest.raises(ValueError, match="non-positive"):
        Position(PERP).apply_fill(1, 0)


fills = st.lists(
    st.tuples(st.integers(-50_000, 50_000).filter(bool), st.integers(1, 20_000_000)), max_size=40
)


@settings(max_examples=100, deadline=None)
@given(fills)
def test_once_flat_realized_pnl_is_the_cash_flow_linear(seq):
    p = Position(BTC)
    cash = Fraction(0)
    for q, px in seq:
        p.apply_fill(q, px)
        cash -= Fraction(q * px, 10**6)  # buying costs q x px (1e-4 x 1e-2)
    if p.net:
        q = -p.net
        px = 6_000_000
        p.apply_fill(q, px)
        cash -= Fraction(q * px, 10**6)
    assert p.net == 0 and p.realized == cash


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-500, 500).filter(bool), st.integers(1, 2_000_000)), max_size=40))
def test_once_flat_realized_pnl_is_the_cash_flow_inverse(seq):
    p = Position(PERP)
    base = Fraction(0)  # BTC value of what was bought minus what was sold
    for q, px in seq:
        p.apply_fill(q, px)
        base += Fraction(q * 100 * 10, px)  # q contracts x 100 USD / (px x 0.1)
    if p.net:
        q, px = -p.net, 600_000
        p.apply_fill(q, px)
        base += Fraction(q * 1000, px)
    assert p.net == 0 and p.realized == base


@settings(max_examples=100, deadline=None)
@given(fills, st.integers(1, 20_000_000))
def test_realized_plus_unrealized_is_what_closing_at_the_mark_would_realize(seq, mark):
    p = Position(BTC)
    for q, px in seq:
        p.apply_fill(q, px)
    total = p.realized + p.unrealized(mark)
    if p.net:
        p.apply_fill(-p.net, mark)
    assert p.realized == total


def test_decimal64_rounds_half_even_at_the_finest_fitting_exponent():
    assert decimal64(Fraction(2000, 3)) == (6666666666666666667, -16)  # 19 digits fit int64
    assert decimal64(Decimal("60000.30")) == (600003, -1)  # trailing zero stripped: one encoding per value
    assert decimal64(0) == (0, 0)
    assert decimal64(Fraction(1, 8)) == (125, -3)
    assert to_decimal(Fraction(-1, 3)) == Decimal("-0.333333333333333333")
    with pytest.raises(OverflowError):
        decimal64(10**40)
