"""Requests a simulated venue accepts (new, cancel, replace) and its own record of a working order.

Prices and quantities are int mantissas in the instrument's exponents; timestamps are epoch ns and
are passed in by the caller (no wall clock here).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.codec.messages import OrdStatus, OrdType, Side, TimeInForce


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrderRequest:
    instrument_id: int
    cl_ord_id: int  # unique per account among its working orders
    side: Side
    qty: int
    price: int | None = None  # required for LIMIT, absent for MARKET
    ord_type: OrdType = OrdType.Limit
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    account_id: int = 0
    strategy_id: int = 0
    client_id: int = 0  # where reports go
    order_id: int = 0  # the oms's own id, echoed in reports
    correlation_id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRequest:
    """Cancel by venue order id, or by the order's current client order id within the account."""

    instrument_id: int
    cl_ord_id: int  # id of this cancel request
    orig_cl_ord_id: int = 0
    venue_order_id: int = 0
    account_id: int = 0
    strategy_id: int = 0
    client_id: int = 0
    order_id: int = 0
    correlation_id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceRequest:
    """Change price and/or total quantity. `qty` is the new total order quantity (filled part included),
    as FIX OrderQty; `price=None` keeps the price. The order takes `cl_ord_id` as its new client id."""

    instrument_id: int
    cl_ord_id: int
    qty: int
    price: int | None = None
    orig_cl_ord_id: int = 0
    venue_order_id: int = 0
    account_id: int = 0
    strategy_id: int = 0
    client_id: int = 0
    order_id: int = 0
    correlation_id: int = 0


Request = NewOrderRequest | CancelRequest | ReplaceRequest


class SimOrder:
    """The venue's working record of one accepted order. Mutated only by its engine (single writer)."""

    __slots__ = (
        "account_id",
        "ahead",
        "cl_ord_id",
        "client_id",
        "correlation_id",
        "created_ts",
        "cum_cost",
        "cum_qty",
        "instrument_id",
        "leaves_qty",
        "ord_type",
        "order_id",
        "orig_cl_ord_id",
        "post_only",
        "price",
        "qty",
        "resting",
        "seq",
        "side",
        "status",
        "stp_key",
        "strategy_id",
        "tif",
        "updated_ts",
        "venue_order_id",
    )

    def __init__(self, req: NewOrderRequest, venue_order_id: int, stp_key: object, ts: int) -> None:
        self.venue_order_id = venue_order_id
        self.instrument_id = req.instrument_id
        self.cl_ord_id = req.cl_ord_id
        self.orig_cl_ord_id = 0
        self.order_id = req.order_id
        self.account_id = req.account_id
        self.strategy_id = req.strategy_id
        self.client_id = req.client_id
        self.correlation_id = req.correlation_id
        self.side = req.side
        self.ord_type = req.ord_type
        self.tif = req.tif
        self.post_only = req.post_only
        self.price = req.price
        self.qty = req.qty
        self.cum_qty = 0
        self.leaves_qty = req.qty
        self.cum_cost = 0  # sum of price * qty over fills (mantissas), for the average price
        self.status = OrdStatus.New
        self.stp_key = stp_key
        self.ahead = 0  # displayed market size ahead of this order in its level's queue
        self.seq = 0  # time priority: set each time the order (re)joins a level
        self.resting = False
        self.created_ts = ts
        self.updated_ts = ts

    @property
    def is_live(self) -> bool:
        return self.status in (OrdStatus.New, OrdStatus.PartiallyFilled)

    def __repr__(self) -> str:
        return (
            f"SimOrder(id={self.venue_order_id}, cl={self.cl_ord_id}, acct={self.account_id}, "
            f"{self.side.name} {self.qty}@{self.price}, cum={self.cum_qty}, leaves={self.leaves_qty}, "
            f"{self.status.name}, ahead={self.ahead})"
        )
