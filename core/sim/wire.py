"""The simulated venue on the wire: decoded SBE order requests become core/sim requests, and venue
reports become SBE ExecutionReports. One translation, used by every gateway in front of a SimVenue:
the exec daemon's execution client (adapters/sim/execution.py) and the backtest's venue link
(core/backtest/venue_link.py).

Identity mapping: every order trades for one `account_id` (self-trade prevention with scope "account"
then keeps the desk's own orders from trading with each other; "strategy" lets different strategies
cross). Client order ids are the strategy's (`clOrdId`), unique per strategy; the venue keys them by
(account, strategy), so they are unique there too. `orderId` (the oms's id) is echoed on every report.
The message's venueId is not checked here: the gateway routes by venue.

On the wire, `avgPx` and `fee` are set on fills only (0 elsewhere), rounded half-even to the finest
Decimal64 that fits (exact for fees of linear instruments). A report carries the order's terms after
the event: a Replaced report its new price, quantity and leaves.
"""

from __future__ import annotations

from typing import Any

from core.codec.messages import (
    CancelOrder,
    Decimal64,
    ExecutionReport,
    NewOrder,
    OrderFlags,
    Reason,
    ReplaceOrder,
    decode,
)
from core.oms.money import decimal64
from core.sim.orders import CancelRequest, NewOrderRequest, ReplaceRequest
from core.sim.reports import OrderFilled, VenueReport

_ZERO = Decimal64(0, 0)

VenueRequest = NewOrderRequest | CancelRequest | ReplaceRequest


def new_order_request(msg: Any, account_id: int) -> NewOrderRequest:
    """A decoded NewOrder as a venue request."""
    return NewOrderRequest(
        instrument_id=msg.instrumentId,
        cl_ord_id=msg.clOrdId,
        side=msg.side,
        qty=msg.qty,
        price=msg.price,
        ord_type=msg.ordType,
        tif=msg.timeInForce,
        post_only=bool(int(msg.flags or 0) & OrderFlags.postOnly),
        account_id=account_id,
        strategy_id=msg.strategyId,
        client_id=msg.clientId,
        order_id=msg.orderId,
        correlation_id=msg.correlationId,
    )


def cancel_request(msg: Any, account_id: int) -> CancelRequest:
    """A decoded CancelOrder as a venue request."""
    return CancelRequest(
        instrument_id=msg.instrumentId,
        cl_ord_id=msg.clOrdId,
        orig_cl_ord_id=msg.origClOrdId,
        account_id=account_id,
        strategy_id=msg.strategyId,
        client_id=msg.clientId,
        order_id=msg.orderId,
        correlation_id=msg.correlationId,
    )


def replace_request(msg: Any, account_id: int) -> ReplaceRequest:
    """A decoded ReplaceOrder as a venue request (`qty` the new total, `price` None keeps it)."""
    return ReplaceRequest(
        instrument_id=msg.instrumentId,
        cl_ord_id=msg.clOrdId,
        orig_cl_ord_id=msg.origClOrdId,
        qty=msg.qty,
        price=msg.price,
        account_id=account_id,
        strategy_id=msg.strategyId,
        client_id=msg.clientId,
        order_id=msg.orderId,
        correlation_id=msg.correlationId,
    )


def venue_request(msg: Any, account_id: int) -> VenueRequest | None:
    """The venue request of a decoded NewOrder / CancelOrder / ReplaceOrder; None for anything else."""
    if isinstance(msg, NewOrder):
        return new_order_request(msg, account_id)
    if isinstance(msg, CancelOrder):
        return cancel_request(msg, account_id)
    if isinstance(msg, ReplaceOrder):
        return replace_request(msg, account_id)
    return None


def decode_venue_request(payload: Any, account_id: int) -> VenueRequest | None:
    """Decode one SBE message and translate it (None when it is not an order request)."""
    return venue_request(decode(payload), account_id)


def execution_report_fields(report: VenueReport, venue_id: int, seq: int) -> dict[str, Any]:
    """The ExecutionReport message fields (schema names) of a venue report."""
    fill = report if isinstance(report, OrderFilled) else None
    return {
        "orderId": report.order_id,
        "clOrdId": report.cl_ord_id,
        "origClOrdId": report.orig_cl_ord_id,
        "strategyId": report.strategy_id,
        "clientId": report.client_id,
        "correlationId": report.correlation_id,
        "instrumentId": report.instrument_id,
        "venueId": venue_id,
        "venueOrderId": str(report.venue_order_id) if report.venue_order_id else "",
        "execId": report.exec_id,
        "execType": report.exec_type,
        "ordStatus": report.ord_status,
        "side": report.side if report.side is not None else 0,
        "ordType": report.ord_type if report.ord_type is not None else 0,
        "timeInForce": report.tif if report.tif is not None else 0,
        "flags": OrderFlags.postOnly if report.post_only else 0,
        "price": report.price,
        "qty": report.qty,
        "lastPx": fill.last_px if fill else None,
        "lastQty": fill.last_qty if fill else 0,
        "cumQty": report.cum_qty,
        "leavesQty": report.leaves_qty,
        "avgPx": Decimal64(*decimal64(fill.avg_px)) if fill else _ZERO,
        "fee": Decimal64(*decimal64(fill.fee)) if fill else _ZERO,
        "reason": getattr(report, "reason", Reason(0)),
        "transactTs": report.transact_ts,
        "ts": report.ts,
        "seq": seq,
        "text": getattr(report, "text", ""),
    }


def encode_execution_report(
    report: VenueReport, venue_id: int, seq: int, buffer: Any, offset: int = 0
) -> int:
    """Write the report as an ExecutionReport at `offset` of `buffer`; returns the bytes written."""
    return ExecutionReport.encode(buffer, offset, **execution_report_fields(report, venue_id, seq))


def execution_report_bytes(report: VenueReport, venue_id: int, seq: int) -> bytes:
    """The report as one encoded ExecutionReport (header included)."""
    return ExecutionReport.encode_bytes(**execution_report_fields(report, venue_id, seq))
