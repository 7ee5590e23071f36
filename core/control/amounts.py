"""Operator-typed amounts to wire mantissas, exactly: a quantity or price finer than the instrument's
lot or tick is refused (UsageError), never rounded."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core.control.errors import UsageError
from core.instruments import Instrument, InstrumentCatalog


def instrument(catalog: InstrumentCatalog, symbol: str) -> Instrument:
    try:
        return catalog.resolve(symbol)
    except KeyError as e:
        raise UsageError(str(e.args[0])) from None


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise UsageError(f"{what} {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise UsageError(f"{what} {text!r} is not a finite number")
    return value


def qty_mantissa(inst: Instrument, text: str) -> int:
    value = _decimal(text, "quantity")
    if value <= 0:
        raise UsageError(f"quantity must be positive, got {text}")
    try:
        m = inst.qty_mantissa(value)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if m % inst.lot_size:
        lot = inst.qty(inst.lot_size)
        raise UsageError(f"{inst.symbol}: quantity {value} is not a multiple of the lot size {lot}")
    return m


def price_mantissa(inst: Instrument, text: str) -> int:
    value = _decimal(text, "price")
    if value <= 0:
        raise UsageError(f"price must be positive, got {text}")
    try:
        m = inst.price_mantissa(value)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if m % inst.tick_size:
        tick = inst.price(inst.tick_size)
        raise UsageError(f"{inst.symbol}: price {value} is not a multiple of the tick size {tick}")
    return m
