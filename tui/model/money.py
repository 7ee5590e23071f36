"""Decimal64 (mantissa, exponent) values from the wire as exact Decimals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ZERO = Decimal(0)


def dec(value: Any) -> Decimal:
    """A decoded Decimal64 composite (or a (mantissa, exponent) pair) as an exact Decimal."""
    mantissa, exponent = value
    return Decimal(mantissa).scaleb(exponent)
