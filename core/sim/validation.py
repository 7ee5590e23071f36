"""Static checks of orders against the instrument: each failure is a RejectCode and a sentence."""

from __future__ import annotations

from core.codec.messages import OrdType, Side, TimeInForce
from core.instruments import Instrument
from core.sim.orders import NewOrderRequest
from core.sim.reports import RejectCode

Problem = tuple[RejectCode, str]

_SIDES = frozenset(Side)
_ORD_TYPES = frozenset(OrdType)
_TIFS = frozenset(TimeInForce)


def check_new(req: NewOrderRequest, inst: Instrument) -> Problem | None:
    if req.side not in _SIDES:
        return RejectCode.BAD_SIDE, f"side {req.side!r} is not Buy or Sell"
    if req.ord_type not in _ORD_TYPES:
        return RejectCode.BAD_ORD_TYPE, f"order type {req.ord_type!r} is not Limit or Market"
    if req.tif not in _TIFS:
        return RejectCode.BAD_TIF, f"time in force {req.tif!r} is not supported"
    if req.ord_type == OrdType.Market:
        if req.price is not None:
            return RejectCode.PRICE_ON_MARKET, "a market order carries no price"
        if req.post_only:
            return RejectCode.POST_ONLY_MARKET, "a market order cannot be post-only"
    else:
        problem = check_price(req.price, inst)
        if problem:
            return problem
    return check_qty(req.qty, inst)


def check_price(price: int | None, inst: Instrument) -> Problem | None:
    if price is None:
        return RejectCode.PRICE_MISSING, "a limit order needs a price"
    if type(price) is not int:
        return RejectCode.PRICE_OFF_TICK, f"price {price!r} is not an integer mantissa"
    if price <= 0:
        return RejectCode.PRICE_NOT_POSITIVE, f"price {_px(price, inst)} is not positive"
    if price % inst.tick_size:
        tick = inst.price(inst.tick_size)
        return RejectCode.PRICE_OFF_TICK, f"price {_px(price, inst)} is not a multiple of the tick {tick}"
    return None


def check_qty(qty: int, inst: Instrument) -> Problem | None:
    if type(qty) is not int:
        return RejectCode.QTY_OFF_LOT, f"quantity {qty!r} is not an integer mantissa"
    if qty <= 0:
        return RejectCode.QTY_NOT_POSITIVE, f"quantity {inst.qty(qty)} is not positive"
    if qty % inst.lot_size:
        lot = inst.qty(inst.lot_size)
        return RejectCode.QTY_OFF_LOT, f"quantity {inst.qty(qty)} is not a multiple of the lot {lot}"
    if qty < inst.min_qty:
        return (
            RejectCode.QTY_BELOW_MIN,
            f"quantity {inst.qty(qty)} is below the minimum {inst.qty(inst.min_qty)}",
        )
    if qty > inst.max_qty:
        return (
            RejectCode.QTY_ABOVE_MAX,
            f"quantity {inst.qty(qty)} is above the maximum {inst.qty(inst.max_qty)}",
        )
    return None


def _px(price: int, inst: Instrument) -> str:
    return f"{inst.price(price)} ({price})"
