"""Exact values at the edges: Fractions and Decimals to the wire's Decimal64 (int64 mantissa, int8 exponent).

Inside the oms money is exact (Fraction); a value is rounded only when it leaves as a Decimal64: half
to even at the finest exponent (down to 1e-18) whose mantissa fits int64, trailing zeros stripped,
so one value always encodes to the same bytes.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

INT64_MAX = 2**63 - 1
MIN_EXPONENT = -18
MAX_EXPONENT = 18


def decimal64(value: Fraction | Decimal | int) -> tuple[int, int]:
    """(mantissa, exponent) of value; raises OverflowError when even 1e18 steps cannot hold it."""
    if not value:
        return 0, 0
    exact = _exact(value)
    if exact is not None:
        return exact
    f = Fraction(value)
    exponent = MIN_EXPONENT
    while True:
        m = round(f * Fraction(10) ** -exponent)  # round() of a Fraction is half to even
        if abs(m) <= INT64_MAX:
            break
        exponent += max(1, len(str(abs(m))) - 19)
        if exponent > MAX_EXPONENT:
            raise OverflowError(f"{value} does not fit a Decimal64")
    if m == 0:
        return 0, 0
    while m % 10 == 0 and exponent < MAX_EXPONENT:
        m //= 10
        exponent += 1
    return m, exponent


def _exact(value: Fraction | Decimal | int) -> tuple[int, int] | None:
    """The value's own finite decimal form when it has one that fits (no rounding), else None."""
    if isinstance(value, int):
        m, e = value, 0
    elif isinstance(value, Decimal):
        if not value.is_finite():
            return None
        sign, digits, e = value.as_tuple()
        m = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    else:
        den = value.denominator
        twos = fives = 0
        while den % 2 == 0:
            den //= 2
            twos += 1
        while den % 5 == 0:
            den //= 5
            fives += 1
        if den != 1:
            return None  # not a finite decimal: rounded by the caller
        k = max(twos, fives)
        m, e = value.numerator * (10**k // value.denominator), -k
    while m and m % 10 == 0 and e < MAX_EXPONENT:
        m //= 10
        e += 1
    if abs(m) > INT64_MAX or not MIN_EXPONENT <= e <= MAX_EXPONENT:
        return None
    return m, int(e)


def to_decimal(value: Fraction | Decimal | int) -> Decimal:
    """The Decimal a value is published as (the same rounding as decimal64)."""
    m, e = decimal64(value)
    return Decimal(m).scaleb(e)


def from_decimal64(mantissa: int, exponent: int) -> Decimal:
    return Decimal(mantissa).scaleb(exponent)
