"""The link between the oms and the simulated venue, as the sim exec gateway makes it: the oms's venue
orders (SBE NewOrder / CancelOrder / ReplaceOrder, orderId set) become core/sim requests, and the venue's
reports become SBE ExecutionReports for the oms.

Every order trades for one account (`account_id`): the venue's self-trade prevention then sees the
desk's strategies as one owner. Client order ids at the venue are the strategy's clOrdIds; the venue
keys them by (account, strategy), so ids unique per strategy are unique there too.
"""

from __future__ import annotations

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
from core.sim.venue import SimVenue

_ZERO = Decimal64(0, 0)


class SimVenueLink:
    def __init__(self, venue: SimVenue, venue_id: int, account_id: int = 1) -> None:
        self.venue = venue
        self.venue_id = venue_id
        self.account_id = account_id
        self.seq = 0
        self.requests = 0
        self.refused = 0  # payloads that were not an order request

    def send(self, payload: bytes, now_ns: int) -> None:
        """One venue order from the oms, submitted at now_ns (the venue adds its order latency)."""
        m = decode(payload)
        acct = self.account_id
        if isinstance(m, NewOrder):
            self.venue.submit(
                NewOrderRequest(
                    instrument_id=m.instrumentId,
                    cl_ord_id=m.clOrdId,
                    side=m.side,
                    qty=m.qty,
                    price=m.price,
                    ord_type=m.ordType,
                    tif=m.timeInForce,
                    post_only=bool(int(m.flags or 0) & OrderFlags.postOnly),
                    account_id=acct,
                    strategy_id=m.strategyId,
                    client_id=m.clientId,
                    order_id=m.orderId,
                    correlation_id=m.correlationId,
                ),
                now_ns,
            )
        elif isinstance(m, CancelOrder):
            self.venue.cancel(
                CancelRequest(
                    instrument_id=m.instrumentId,
                    cl_ord_id=m.clOrdId,
                    orig_cl_ord_id=m.origClOrdId,
                    account_id=acct,
                    strategy_id=m.strategyId,
                    client_id=m.clientId,
                    order_id=m.orderId,
                    correlation_id=m.correlationId,
                ),
                now_ns,
            )
        elif isinstance(m, ReplaceOrder):
            self.venue.replace(
                ReplaceRequest(
                    instrument_id=m.instrumentId,
                    cl_ord_id=m.clOrdId,
                    orig_cl_ord_id=m.origClOrdId,
                    qty=m.qty,
                    price=m.price,
                    account_id=acct,
                    strategy_id=m.strategyId,
                    client_id=m.clientId,
                    order_id=m.orderId,
                    correlation_id=m.correlationId,
                ),
                now_ns,
            )
        else:
            self.refused += 1
            return
        self.requests += 1

    def reports(self, now_ns: int) -> list[bytes]:
        """The venue's reports delivered by now_ns, as encoded ExecutionReports."""
        return [self.encode(r) for r in self.venue.poll_reports(now_ns)]

    def encode(self, r: VenueReport) -> bytes:
        self.seq += 1
        fill = r if isinstance(r, OrderFilled) else None
        return ExecutionReport.encode_bytes(
            orderId=r.order_id,
            clOrdId=r.cl_ord_id,
            origClOrdId=r.orig_cl_ord_id,
            strategyId=r.strategy_id,
            clientId=r.client_id,
            correlationId=r.correlation_id,
            instrumentId=r.instrument_id,
            venueId=self.venue_id,
            venueOrderId=str(r.venue_order_id) if r.venue_order_id else "",
            execId=r.exec_id,
            execType=r.exec_type,
            ordStatus=r.ord_status,
            side=r.side if r.side is not None else 0,
            ordType=r.ord_type if r.ord_type is not None else 0,
            timeInForce=r.tif if r.tif is not None else 0,
            flags=OrderFlags.postOnly if r.post_only else 0,
            price=r.price,
            qty=r.qty,
            lastPx=fill.last_px if fill else None,
            lastQty=fill.last_qty if fill else 0,
            cumQty=r.cum_qty,
            leavesQty=r.leaves_qty,
            avgPx=Decimal64(*decimal64(fill.avg_px)) if fill else _ZERO,
            fee=Decimal64(*decimal64(fill.fee)) if fill else _ZERO,
            reason=getattr(r, "reason", Reason(0)),
            transactTs=r.transact_ts,
            ts=r.ts,
            seq=self.seq,
            text=getattr(r, "text", ""),
        )
