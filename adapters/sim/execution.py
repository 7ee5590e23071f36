"""The sim venue's execution client: orders in, venue reports out.

It wraps core/sim's SimVenue (one matching engine per instrument of the venue, behind the latency
model of configs/venues.toml) and translates the bus messages: decoded NewOrder / CancelOrder /
ReplaceOrder views (core.codec.messages) become core/sim requests, and venue reports become
ExecutionReport messages.

Identity mapping: every order trades for the client's `account_id` (self-trade prevention with scope
"account" therefore keeps the desk's own orders from trading with each other; "strategy" lets
different strategies cross). Client order ids are the strategy's (`clOrdId`), unique per strategy;
`orderId` (the oms's id) is echoed on every report. The message's venueId is not checked here: the
exec daemon routes by venue.

On the wire, `avgPx` is set on fills only (0 elsewhere), and avgPx and fee are rounded half-even to
the finest Decimal64 that fits (exact for fees of linear instruments).
"""

from __future__ import annotations

from typing import Any

from adapters.sim.config import SimExecClientConfig
from adapters.sim.providers import SimInstrumentProvider
from core.codec.messages import Decimal64, ExecutionReport, OrderFlags, Reason
from core.marketdata.events import MarketEvent
from core.oms.money import decimal64
from core.sim.orders import CancelRequest, NewOrderRequest, ReplaceRequest
from core.sim.reports import OrderFilled, VenueReport
from core.sim.venue import SimVenue

_ZERO = Decimal64(0, 0)


class SimExecutionClient:
    def __init__(
        self, config: SimExecClientConfig | None = None, provider: SimInstrumentProvider | None = None
    ) -> None:
        self.config = config = config or SimExecClientConfig()
        self.provider = provider if provider is not None else SimInstrumentProvider(venue=config.venue)
        self.venue = SimVenue(self.provider.instruments(), self.provider.config, book=config.book)
        self.venue_id = self.provider.venue_id
        self.seq = 0  # sequence number of the ExecutionReports this client has encoded

    # -- core requests ---------------------------------------------------------------------------
    def submit(self, req: NewOrderRequest, now_ns: int) -> int:
        """Returns the time the order acts at the venue."""
        return self.venue.submit(req, now_ns)

    def cancel(self, req: CancelRequest, now_ns: int) -> int:
        return self.venue.cancel(req, now_ns)

    def replace(self, req: ReplaceRequest, now_ns: int) -> int:
        return self.venue.replace(req, now_ns)

    def on_market(self, event: MarketEvent) -> None:
        self.venue.on_market(event)

    def poll(self, now_ns: int) -> list[VenueReport]:
        """Reports delivered by `now_ns`."""
        return self.venue.poll_reports(now_ns)

    def next_due(self) -> int | None:
        return self.venue.next_due()

    # -- bus messages ----------------------------------------------------------------------------
    def on_new_order(self, msg: Any, now_ns: int) -> int:
        return self.submit(new_order_request(msg, self.config.account_id), now_ns)

    def on_cancel_order(self, msg: Any, now_ns: int) -> int:
        return self.cancel(cancel_request(msg, self.config.account_id), now_ns)

    def on_replace_order(self, msg: Any, now_ns: int) -> int:
        return self.replace(replace_request(msg, self.config.account_id), now_ns)

    def encode_report(self, report: VenueReport, buffer: Any, offset: int = 0) -> int:
        """Write the report as an ExecutionReport at `offset`; returns the bytes written."""
        self.seq += 1
        return ExecutionReport.encode(
            buffer, offset, **execution_report_fields(report, self.venue_id, self.seq)
        )


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
        post_only=bool(msg.flags & OrderFlags.postOnly),
        account_id=account_id,
        strategy_id=msg.strategyId,
        client_id=msg.clientId,
        order_id=msg.orderId,
        correlation_id=msg.correlationId,
    )


def cancel_request(msg: Any, account_id: int) -> CancelRequest:
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
