"""A strategy's own orders as the oms reports them: each request the strategy sends is tracked, and every
ExecutionReport for the strategy updates the order it concerns.

The oms's ExecutionReports name an order by its orderId (set once the oms accepted it), by the clOrdId
of the request they answer (new, cancel or replace) and by the order's previous clOrdId
(origClOrdId) on cancel and replace reports; lookups try them in that order. Quantities and prices are
int mantissas; avg_px is the exact average fill price in quote units (not a mantissa), as reported.
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from core.codec.messages import ExecType, OrdStatus, OrdType, Reason, Side, TimeInForce

S = OrdStatus
TERMINAL = frozenset({S.Filled, S.Canceled, S.Rejected, S.Expired})
NO_REASON = Reason(0)
CANCEL_WANTED = -1  # cancel_cl_ord_id of an order to cancel once its replace is answered


class OrderError(ValueError):
    """A request the strategy built wrongly (float price, off-tick, unknown order ...): raised at once in
    the strategy's callback, nothing is sent."""


class OwnOrder:
    """One order of the strategy. Mutated only by the host (from reports); strategies read it."""

    __slots__ = (
        "avg_px",
        "cancel_cl_ord_id",
        "cl_ord_id",
        "cl_ord_ids",
        "created_ns",
        "cum_qty",
        "external",
        "flags",
        "instrument_id",
        "last_reason",
        "last_text",
        "leaves_qty",
        "ord_type",
        "order_id",
        "orig_cl_ord_id",
        "price",
        "qty",
        "replace_pending",
        "side",
        "status",
        "tag",
        "tif",
        "trigger_ts",
        "updated_ns",
    )

    def __init__(
        self,
        cl_ord_id: int,
        instrument_id: int,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        flags: int,
        price: int | None,
        qty: int,
        created_ns: int,
        tag: str = "",
        trigger_ts: int = 0,
    ) -> None:
        self.cl_ord_id = cl_ord_id  # current client id (a replace gives the order a new one)
        self.orig_cl_ord_id = cl_ord_id  # the id the order was sent with
        self.cl_ord_ids = [cl_ord_id]  # every request id sent for it (new, cancels, replaces)
        self.order_id = 0  # the oms's id, known from its first report
        self.instrument_id = instrument_id
        self.side = side
        self.ord_type = ord_type
        self.tif = tif
        self.flags = flags
        self.price = price
        self.qty = qty
        self.cum_qty = 0
        self.leaves_qty = qty
        self.avg_px: Decimal | None = None
        self.status = S.PendingNew
        self.cancel_cl_ord_id = 0  # the cancel request in flight, 0 when none
        self.replace_pending: tuple[int, int | None, int] | None = None  # (clOrdId, price, qty) in flight
        self.last_reason = NO_REASON
        self.last_text = ""
        self.tag = tag  # the strategy's own label ("bid", "leg_a" ...), never sent
        self.trigger_ts = trigger_ts
        self.created_ns = created_ns
        self.updated_ns = created_ns
        self.external = False  # an order this host did not send (oms flatten, a previous session)

    @property
    def is_buy(self) -> bool:
        return self.side == Side.Buy

    @property
    def is_working(self) -> bool:
        """Not yet finished: it may still fill."""
        return self.status not in TERMINAL

    @property
    def is_done(self) -> bool:
        return self.status in TERMINAL

    @property
    def is_pending(self) -> bool:
        """A request on it is unanswered: not yet accepted, or a cancel or replace in flight."""
        return self.status == S.PendingNew or bool(self.cancel_cl_ord_id) or self.replace_pending is not None

    @property
    def is_cancelable(self) -> bool:
        return self.is_working and not self.cancel_cl_ord_id

    def __repr__(self) -> str:
        px = "MKT" if self.price is None else self.price
        return (
            f"OwnOrder(cl={self.cl_ord_id}, id={self.order_id}, {self.side.name} {self.qty}@{px}, "
            f"cum={self.cum_qty}, {self.status.name}{', ' + self.tag if self.tag else ''})"
        )


class OwnOrders:
    """Every order of one strategy: working ones, and the last `finished_memory` finished ones (so late
    reports still find their order)."""

    def __init__(self, finished_memory: int = 10_000) -> None:
        self.working: dict[int, OwnOrder] = {}  # by original clOrdId, in submission order
        self._by_cl: dict[int, OwnOrder] = {}  # every clOrdId sent for an order (new, cancel, replace)
        self._by_oid: dict[int, OwnOrder] = {}
        self._finished: OrderedDict[int, OwnOrder] = OrderedDict()
        self._finished_memory = finished_memory
        self.unknown_reports = 0

    def add(self, order: OwnOrder) -> None:
        self.working[order.orig_cl_ord_id] = order
        self._by_cl[order.cl_ord_id] = order

    def alias(self, cl_ord_id: int, order: OwnOrder) -> None:
        """A cancel or replace request id that reports may name."""
        self._by_cl[cl_ord_id] = order
        order.cl_ord_ids.append(cl_ord_id)

    def get(self, cl_ord_id: int) -> OwnOrder | None:
        return self._by_cl.get(cl_ord_id)

    def by_order_id(self, order_id: int) -> OwnOrder | None:
        return self._by_oid.get(order_id)

    def find(self, report) -> OwnOrder | None:
        order = self._by_oid.get(report.orderId) if report.orderId else None
        if order is None:
            order = self._by_cl.get(report.clOrdId) or self._by_cl.get(report.origClOrdId)
        return order

    # -- reports -----------------------------------------------------------------------------------
    def apply(self, report, now_ns: int) -> OwnOrder | None:
        """Apply one ExecutionReport; returns the order it concerns (None if unknown and not adoptable)."""
        order = self.find(report)
        if order is None:
            if not report.orderId or report.execType in (ExecType.Rejected, ExecType.CancelRejected):
                self.unknown_reports += 1
                return None
            order = self._adopt(report, now_ns)
        if report.orderId and not order.order_id:
            order.order_id = report.orderId
            self._by_oid[report.orderId] = order
        et = report.execType
        order.updated_ns = now_ns
        if et == ExecType.Trade:
            order.cum_qty = report.cumQty
            order.leaves_qty = report.leavesQty
            order.avg_px = _dec(report.avgPx)
            order.status = report.ordStatus
        elif et == ExecType.Replaced:
            pending = order.replace_pending
            order.replace_pending = None
            # The report names the new id; the new terms are the ones this host asked for.
            if pending is not None:
                order.cl_ord_id, order.price, order.qty = pending
            else:
                order.cl_ord_id = report.clOrdId
                self.alias(report.clOrdId, order)
            order.leaves_qty = max(order.qty - order.cum_qty, 0)
            order.status = S.PartiallyFilled if order.cum_qty else S.New
        elif et in (ExecType.CancelRejected, ExecType.ReplaceRejected):
            if et == ExecType.CancelRejected:
                order.cancel_cl_ord_id = 0
            else:
                order.replace_pending = None
            if report.ordStatus != S.Rejected:  # the oms says Rejected when it did not know the order
                order.status = report.ordStatus
            order.last_reason = report.reason or NO_REASON
            order.last_text = _text(report)
        else:
            status = report.ordStatus
            if status is not None and not getattr(status, "is_unknown", False):
                order.status = status
            if et in (ExecType.Canceled, ExecType.Expired, ExecType.Rejected):
                order.leaves_qty = 0
                order.last_reason = report.reason or NO_REASON
                order.last_text = _text(report)
            elif et == ExecType.Restated:
                order.cum_qty = report.cumQty
                order.leaves_qty = report.leavesQty
        if order.status in TERMINAL:
            self._finish(order)
        return order

    def _adopt(self, report, now_ns: int) -> OwnOrder:
        """An order of this strategy the host did not send (an oms flatten order, an order of a previous
        session): tracked like the others so the strategy sees every working order of its own."""
        order = OwnOrder(
            report.clOrdId,
            report.instrumentId,
            report.side,
            report.ordType,
            report.timeInForce,
            int(getattr(report, "flags", 0) or 0),
            report.price,
            report.qty,
            now_ns,
            tag="external",
        )
        order.external = True
        order.cum_qty = report.cumQty
        order.leaves_qty = report.leavesQty
        self.add(order)
        return order

    def restate(self, row, now_ns: int) -> OwnOrder | None:
        """An order from the oms's OrdersSnapshot (e.g. after a restart of the host): a known order takes
        the oms's quantities and status; an unknown working one is adopted as external."""
        order = self._by_oid.get(row.orderId) or self._by_cl.get(row.clOrdId)
        status = row.ordStatus
        if order is None:
            if status in TERMINAL:
                return None
            order = self._adopt(row, now_ns)
        if not order.order_id:
            order.order_id = row.orderId
            self._by_oid[row.orderId] = order
        order.cum_qty, order.leaves_qty = row.cumQty, row.leavesQty
        if status is not None and not getattr(status, "is_unknown", False):
            order.status = status
        order.updated_ns = now_ns
        if order.status in TERMINAL:
            self._finish(order)
        return order

    def _finish(self, order: OwnOrder) -> None:
        order.cancel_cl_ord_id = 0
        order.replace_pending = None
        if self.working.pop(order.orig_cl_ord_id, None) is None:
            return
        self._finished[order.orig_cl_ord_id] = order
        while len(self._finished) > self._finished_memory:
            _, old = self._finished.popitem(last=False)
            for k in old.cl_ord_ids:
                if self._by_cl.get(k) is old:
                    del self._by_cl[k]
            self._by_oid.pop(old.order_id, None)

    # -- reads -------------------------------------------------------------------------------------
    def working_orders(self, instrument_id: int = 0) -> list[OwnOrder]:
        return [o for o in self.working.values() if not instrument_id or o.instrument_id == instrument_id]

    def finished(self) -> list[OwnOrder]:
        return list(self._finished.values())

    def __len__(self) -> int:
        return len(self.working)


def _dec(d) -> Decimal | None:
    if d is None or not d.mantissa:
        return None
    return Decimal(d.mantissa).scaleb(d.exponent)


def _text(report) -> str:
    t = report.text
    if isinstance(t, bytes | bytearray | memoryview):
        return bytes(t).decode("utf-8", "replace")
    return t or ""
