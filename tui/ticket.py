"""The manual order ticket: what the trader typed, checked and converted exactly to wire mantissas.

Quantities and prices are typed as decimals and converted with the instrument's exponents; a value
finer than the exponent, off the tick or lot grid, out of the instrument's size range, or not a number
is refused with the field it concerns and a message to show beside it. The oms still applies every
pre-trade risk check: this only makes sure the order says what the trader meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from core.codec.messages import OrdType, Side, TimeInForce
from core.instruments import Instrument, InstrumentCatalog
from tui.commands import NewOrder
from tui.fmt import fixed

SIDES = {"buy": Side.Buy, "sell": Side.Sell}
ORDER_TYPES = {"limit": OrdType.Limit, "market": OrdType.Market}
TIFS = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK, "DAY": TimeInForce.Day}


class TicketError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TicketInput:
    instrument: str  # symbol or numeric id
    side: str  # buy | sell
    qty: str
    price: str = ""
    ord_type: str = "limit"  # limit | market
    tif: str = "GTC"


def parse_ticket(catalog: InstrumentCatalog, t: TicketInput) -> NewOrder:
    """The NewOrder command for a ticket, or TicketError naming the first bad field."""
    try:
        inst = catalog.resolve(t.instrument.strip())
    except KeyError as e:
        raise TicketError("instrument", str(e).strip("'\"")) from None
    side = SIDES.get(t.side.strip().lower())
    if side is None:
        raise TicketError("side", f"choose buy or sell, not {t.side!r}")
    ord_type = ORDER_TYPES.get(t.ord_type.strip().lower())
    if ord_type is None:
        raise TicketError("type", f"choose limit or market, not {t.ord_type!r}")
    tif = TIFS.get(t.tif.strip().upper())
    if tif is None:
        raise TicketError("tif", f"choose one of {', '.join(TIFS)}, not {t.tif!r}")
    qty = _quantity(inst, t.qty)
    price: int | None = None
    if ord_type == OrdType.Limit:
        price = _price(inst, t.price)
    elif t.price.strip():
        raise TicketError("price", "a market order takes no price (leave it empty or choose limit)")
    return NewOrder(instrument_id=inst.id, side=side, qty=qty, price=price, ord_type=ord_type, tif=tif)


def _decimal(field: str, text: str) -> Decimal:
    s = text.strip().replace(",", "").replace("_", "")
    if not s:
        raise TicketError(field, "required")
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise TicketError(field, f"{text.strip()!r} is not a decimal number") from None
    if not value.is_finite():
        raise TicketError(field, f"{text.strip()!r} is not a decimal number")
    return value


def _quantity(inst: Instrument, text: str) -> int:
    value = _decimal("qty", text)
    if value <= 0:
        raise TicketError("qty", "must be positive")
    try:
        m = inst.qty_mantissa(value)
    except ValueError:
        step = fixed(1, inst.qty_exponent)
        raise TicketError("qty", f"{inst.symbol} trades in steps of {step}; {value} is finer") from None
    if m % inst.lot_size:
        lot = fixed(inst.lot_size, inst.qty_exponent)
        raise TicketError("qty", f"must be a multiple of the lot size {lot}")
    if m < inst.min_qty:
        raise TicketError("qty", f"below the minimum {fixed(inst.min_qty, inst.qty_exponent)}")
    if m > inst.max_qty:
        raise TicketError("qty", f"above the maximum {fixed(inst.max_qty, inst.qty_exponent)}")
    return m


def _price(inst: Instrument, text: str) -> int:
    value = _decimal("price", text)
    if value <= 0:
        raise TicketError("price", "must be positive")
    try:
        m = inst.price_mantissa(value)
    except ValueError:
        step = fixed(1, inst.price_exponent)
        raise TicketError("price", f"{inst.symbol} prices in steps of {step}; {value} is finer") from None
    if m % inst.tick_size:
        raise TicketError("price", f"must be on the tick {fixed(inst.tick_size, inst.price_exponent)}")
    return m
