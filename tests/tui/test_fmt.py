"""Display formatting is exact: mantissas shown at their exponent, mids between ticks, money, times."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.instruments import load_instruments
from tui import fmt

CATALOG = load_instruments()


@pytest.mark.parametrize(
    ("mantissa", "exponent", "text"),
    [
        (6000050, -2, "60000.50"),
        (5, -4, "0.0005"),
        (-5, -2, "-0.05"),
        (0, -3, "0.000"),
        (12, 1, "120"),
        (2**63 - 1, -8, "92233720368.54775807"),  # beyond a float's 53 bits, still exact
    ],
)
def test_fixed_is_exact(mantissa: int, exponent: int, text: str) -> None:
    assert fmt.fixed(mantissa, exponent) == text
    assert Decimal(text) == Decimal(mantissa).scaleb(exponent)


def test_a_mid_between_ticks_gets_one_more_decimal() -> None:
    btc = CATALOG.by_id(1)
    assert fmt.half_price(btc, 6000050 + 6000000) == "60000.25"
    assert fmt.half_price(btc, 6000051 + 6000000) == "60000.255"
    assert fmt.half_price(btc, None) == "-"


def test_money() -> None:
    assert fmt.money(Decimal("1234567.891")) == "1,234,567.89"
    assert fmt.money(Decimal("0.5")) == "0.50"
    assert fmt.money(Decimal("-0.00001234")) == "-0.000012"  # coin-margined PnL keeps its digits
    assert fmt.signed_money(Decimal("3.5")) == "+3.50" and fmt.signed_money(Decimal("-3.5")) == "-3.50"
    assert fmt.signed_money(Decimal(0)) == "0.00"


def test_times_and_durations() -> None:
    assert fmt.clock(1_767_225_600_123_456_789) == "00:00:00.123"
    assert fmt.clock(0) == "--:--:--.---"
    assert fmt.duration(850) == "850 ns" and fmt.duration(12_345) == "12.3 µs"
    assert fmt.duration(3_400_000) == "3.4 ms" and fmt.age(4_200_000_000) == "4.2s"
