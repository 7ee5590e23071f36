from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.marketdata.fixedpoint import FixedParser, decimal_places, format_fixed, parse_fixed, to_decimal


@pytest.mark.parametrize(
    ("text", "exponent", "mantissa"),
    [
        ("61837.63000000", -2, 6183763),  # Binance spot prints 8 decimals
        ("61800.20", -1, 618002),
        ("0.00000000", -5, 0),
        ("25.42618900", -8, 2542618900),
        ("9781.0", -1, 97810),  # CSV writers print floats
        ("1e-05", -5, 1),  # ...sometimes in exponent notation
        ("-1.5", -1, -15),
        ("1500", 2, 15),
        ("7", 0, 7),
    ],
)
def test_parse_is_exact(text, exponent, mantissa):
    assert parse_fixed(text, exponent) == mantissa
    assert FixedParser(exponent)(text) == mantissa


@pytest.mark.parametrize(
    ("text", "exponent", "why"),
    [
        ("25.42618900", -5, "finer than"),
        ("1550", 2, "finer than"),
        ("1_0", -2, "not a decimal"),  # int() and Decimal() would both accept this
        (" 1", -2, "not a decimal"),
        ("", -2, "not a decimal"),
        ("nan", -2, "not a decimal"),
        ("Infinity", -2, "not a decimal"),
        ("1e400", -2, "does not fit"),
        ("99999999999999999999", 0, "does not fit"),
        (1.5, -2, "decimal string"),
    ],
)
def test_parse_refuses_what_it_cannot_represent_exactly(text, exponent, why):
    with pytest.raises(ValueError, match=why):
        parse_fixed(text, exponent)
    with pytest.raises(ValueError, match=why):
        FixedParser(exponent)(text)


def test_memo_is_bounded_and_stays_correct():
    parse = FixedParser(-2, max_entries=4)
    for i in range(50):
        assert parse(f"{i}.25") == i * 100 + 25
    assert len(parse.memo) <= 4


@given(st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1), st.integers(min_value=-12, max_value=3))
def test_format_then_parse_round_trips(mantissa, exponent):
    text = format_fixed(mantissa, exponent)
    assert Decimal(text) == Decimal(mantissa).scaleb(exponent)
    assert to_decimal(mantissa, exponent) == Decimal(text)
    if exponent <= 0:
        assert decimal_places(text) == -exponent
        assert parse_fixed(text, exponent) == mantissa


def test_decimal_places_as_written():
    assert decimal_places("61837.63000000") == 8
    assert decimal_places("9781.0") == 1
    assert decimal_places("5") == 0
    assert decimal_places("1e-05") == 5
    with pytest.raises(ValueError):
        decimal_places("abc")
