"""Orders and their state machine: every status change goes through `Order.move`, which refuses any
transition not in ALLOWED.

    PendingNew ---ack---> New ---fill---> PartiallyFilled ---fill---> Filled
        |  \\--fill before the ack--> PartiallyFilled / Filled
        |---venue reject---> Rejected
    New / PartiallyFilled ---cancel request---> PendingCancel ---ack---> Canceled
                                                     \\---cancel rejected---> back to New / PartiallyFilled
    New / PartiallyFilled ---replace request---> PendingReplace ---ack---> Replaced ---> New / PartiallyFilled
                                                     \\---replace rejected---> back
    any working ---expired (IOC remainder, day end)---> Expired; ---unsolicited cancel---> Canceled

`Replaced` is the status of the superseded version: the replace ack reports it (OrdStatus Replaced),
then the order lives on under its new clOrdId, price and quantity with the same orderId. A fill
while a cancel or replace is pending keeps the pending status (the status it returns to moves on).
Filled, Canceled, Rejected and Expired are terminal.
"""

from __future__ import annotations

from fractions import Fraction

from core.codec.messages import OrdStatus as S

_ZERO = Fraction(0)
TERMINAL = frozenset({S.Filled, S.Canceled, S.Rejected, S.Expired})

ALLOWED: dict[S, frozenset[S]] = {
    S.PendingNew: frozenset(
        {S.New, S.PartiallyFilled, S.Filled, S.Rejected, S.Canceled, S.Expired, S.PendingCancel}
    ),
    S.New: frozenset({S.PartiallyFilled, S.Filled, S.PendingCancel, S.PendingReplace, S.Canceled, S.Expired}),
    S.PartiallyFilled: frozenset(
        {S.PartiallyFilled, S.Filled, S.PendingCancel, S.PendingReplace, S.Canceled, S.Expired}
    ),
    S.PendingCancel: frozenset(
        {S.PendingCancel, S.Canceled, S.Filled, S.Expired, S.PendingNew, S.New, S.PartiallyFilled}
    ),
    S.PendingReplace: frozenset(
        {S.PendingReplace, S.Replaced, S.Filled, S.Canceled, S.Expired, S.New, S.PartiallyFilled}
    ),
    S.Replaced: frozenset({S.New, S.PartiallyFilled, S.Filled}),
    S.Filled: frozenset(),
    S.Canceled: frozenset(),
    S.Rejected: frozenset(),
    S.Expired: frozenset(),
}


class InvalidTransition(ValueError):
    def __init__(self, order: Order, to: S) -> None:
        super().__init__(
            f"order {order.order_id}: {order.status.name} -> {to.name} is not a valid transition"
        )
        self.order_id = order.order_id
        self.from_status = order.status
        self.to_status = to


class Order:
    """One order as the oms knows it; quantities and prices are int mantissas."""

    __slots__ = (
        "account_id",
        "acked",
        "cancel_cl_ord_id",
        "cancel_sent_ts",
        "cl_ord_id",
        "client_id",
        "correlation_id",
        "created_ts",
        "cum_qty",
        "fill_value",
        "flags",
        "instrument_id",
        "is_buy",
        "ord_type",
        "order_id",
        "pending",
        "price",
        "prior",
        "qty",
        "side",
        "status",
        "strategy_id",
        "tif",
        "updated_ts",
        "venue_id",
        "venue_order_id",
    )

    def __init__(
        self,
        order_id: int,
        cl_ord_id: int,
        strategy_id: int,
        client_id: int,
        correlation_id: int,
        account_id: int,
        instrument_id: int,
        venue_id: int,
        side,
        ord_type,
        tif,
        flags: int,
        price: int | None,
        qty: int,
        ts: int,
    ) -> None:
        self.order_id = order_id
        self.cl_ord_id = cl_ord_id
        self.strategy_id = strategy_id
        self.client_id = client_id
        self.correlation_id = correlation_id
        self.account_id = account_id
        self.instrument_id = instrument_id
        self.venue_id = venue_id
        self.side = side
        self.is_buy = int(side) == 1
        self.ord_type = ord_type
        self.tif = tif
        self.flags = flags
        self.price = price
        self.qty = qty
        self.cum_qty = 0
        self.fill_value = _ZERO  # sum of lastPx * lastQty (mantissas), for the average fill price
        self.status = S.PendingNew
        self.prior = S.PendingNew  # where a pending cancel / replace returns to when refused
        self.acked = False
        self.pending: tuple[int, int, int | None, int] | None = None  # replace: clOrdId, corr, price, qty
        self.venue_order_id = ""
        self.created_ts = ts
        self.updated_ts = ts
        self.cancel_sent_ts = 0
        self.cancel_cl_ord_id = 0

    @property
    def leaves(self) -> int:
        return 0 if self.status in TERMINAL else max(self.qty - self.cum_qty, 0)

    @property
    def working(self) -> bool:
        return self.status not in TERMINAL

    def avg_px(self) -> Fraction:
        return self.fill_value / self.cum_qty if self.cum_qty else Fraction(0)

    def can_move(self, to: S) -> bool:
        return to in ALLOWED[self.status]

    def move(self, to: S, ts: int) -> None:
        if to not in ALLOWED[self.status]:
            raise InvalidTransition(self, to)
        if to in (S.PendingCancel, S.PendingReplace) and self.status not in (
            S.PendingCancel,
            S.PendingReplace,
        ):
            self.prior = self.status
        self.status = to
        self.updated_ts = ts

    def fill_status(self) -> S:
        """The status a fill leaves the order in (before pending overlays)."""
        return S.Filled if self.cum_qty >= self.qty else S.PartiallyFilled
